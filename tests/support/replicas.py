"""Several replicas of each service as processes on one shared database per service, with a Kafka
broker and a PostgreSQL cluster of their own, so that a test may kill and restart any of them."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scripts import stack
from tests.conftest import Broker, Postgres, start_broker
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Replica:
    """One process of a service: `registry-1`, `registry-2`…, on a port of its own."""

    service: str
    number: int
    port: int

    @property
    def name(self) -> str:
        return f"{self.service}-{self.number}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def marker(self) -> str:
        return f"sanpi.{self.service}"


class Balancer:
    """Spreads requests over a service's replicas as a Kubernetes Service would: each request
    starts at a random replica and a retry moves to the next, so a dead one is routed around."""

    def __init__(self, urls: Sequence[str], rng: random.Random) -> None:
        self.urls = list(urls)
        self._rng = rng

    def start(self) -> int:
        return self._rng.randrange(len(self.urls))

    def url(self, start: int, attempt: int) -> str:
        return self.urls[(start + attempt) % len(self.urls)]


@dataclass
class ReplicaStack:
    """The replicas of the three services; each is started, killed and restarted by its pidfile."""

    directory: Path
    env: dict[str, str]
    secret: str
    replicas: dict[str, list[Replica]] = field(default_factory=dict)

    def all(self) -> list[Replica]:
        return [r for rs in self.replicas.values() for r in rs]

    def urls(self, service: str) -> list[str]:
        return [r.url for r in self.replicas[service]]

    def balancer(self, service: str, rng: random.Random) -> Balancer:
        return Balancer(self.urls(service), rng)

    def token(self, role: str = "admin", subject: str = "chaos") -> str:
        from sanpi.kit import Role, issue_token

        return issue_token(self.secret, subject=subject, role=Role(role))

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def pidfile(self, replica: Replica) -> Path:
        return self.directory / "pids" / f"{replica.name}.pid"

    def pid(self, replica: Replica) -> int | None:
        return stack.read_pid(self.pidfile(replica), replica.marker)

    def log(self, replica: Replica) -> str:
        return (self.directory / "logs" / f"{replica.name}.log").read_text(errors="replace")

    def start(self, replica: Replica) -> int:
        return stack.spawn(
            replica.name,
            [str(stack.VENV_BIN / "python"), "-m", f"sanpi.{replica.service}"],
            marker=replica.marker,
            run_dir=self.directory,
            env={**self.env, f"SANPI_{replica.service.upper()}_PORT": str(replica.port)},
        )

    def kill(self, replica: Replica) -> None:
        """SIGKILL by the recorded pid: no shutdown hook runs, as if the node lost power."""
        pid = self.pid(replica)
        assert pid is not None, f"{replica.name} is not running"
        os.kill(pid, signal.SIGKILL)
        stack.stop_pidfile(self.pidfile(replica), replica.marker, grace=10)

    def wait_ready(self, replica: Replica, pid: int, timeout: float = 180) -> None:
        stack.wait_ready(replica.url, timeout=timeout, pid=pid, marker=replica.marker)

    def restart(self, replica: Replica, timeout: float = 180) -> None:
        """Starts a killed replica on its port again and waits until it answers /readyz."""
        self.wait_ready(replica, self.start(replica), timeout)

    def stop_all(self) -> None:
        for replica in self.all():
            stack.stop_pidfile(self.pidfile(replica), replica.marker)

    def consumers_replaced(self) -> int:
        """How often a consumer watchdog replaced a stalled consumer, over every replica's log."""
        return sum(self.log(r).count("replacing the consumer") for r in self.all())

    async def dump_stacks(self) -> list[str]:
        """Has every running replica write its threads' and tasks' stacks to its log
        (sanpi.kit.stacks): the kept logs then say where each one was waiting."""
        from sanpi.kit.stacks import DUMP_SIGNAL, END_OF_STACKS

        dumped = []
        for replica in self.all():
            pid = self.pid(replica)
            if pid is None:
                continue
            before = self.log(replica).count(END_OF_STACKS)
            os.kill(pid, DUMP_SIGNAL)

            def written(replica: Replica = replica, before: int = before) -> bool:
                return self.log(replica).count(END_OF_STACKS) > before

            try:
                await eventually(written, timeout=10, interval=0.1, what=f"{replica.name} stacks")
            except AssertionError:
                continue  # a wedged process says so by not answering; the others still dump
            dumped.append(replica.name)
        return dumped


class Cluster(Postgres):
    """A PostgreSQL cluster of the test module's own: restarting it must not break the session's
    cluster, which the other tests' fixtures hold connections to."""

    def start(self) -> None:
        started = self.script("start")
        assert started.returncode == 0, started.stderr

    def crash(self) -> None:
        """Every server process ends at once (`pg_ctl stop -m immediate`): connections drop
        mid-transaction and the next start recovers from the write-ahead log."""
        done = self.script("crash")
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        self.script("stop")


def start_cluster(directory: Path) -> Cluster:
    """fsync off (a crash of PostgreSQL leaves the operating system's page cache, which holds
    what it wrote), but synchronous_commit on: off, a commit is acknowledged before its WAL is
    written, and a crash loses the last ones (a fault run lost 2 accepted progress reports)."""
    port = stack.free_port()
    env = {
        "PG_DIR": str(directory),
        "PG_PORT": str(port),
        "PG_FAST": "1",
        "PG_OPTIONS": "-c synchronous_commit=on",
    }
    cluster = Cluster(directory, port, env)
    cluster.start()
    return cluster


@dataclass
class ChaosWorld:
    """Everything a chaos scenario may kill: the broker, PostgreSQL and every replica."""

    broker: Broker
    postgres: Cluster
    services: ReplicaStack

    @property
    def directory(self) -> Path:
        return self.services.directory


@contextmanager
def replicated_world(
    directory: Path, *, replicas: int = 2, extra_env: dict[str, str] | None = None
) -> Iterator[ChaosWorld]:
    """A broker, a PostgreSQL cluster and `replicas` processes of each service, every replica of
    a service on the same database and in the same consumer group."""
    broker = start_broker(directory / "kafka")
    try:
        postgres = start_cluster(directory / "postgres")
        try:
            secret = stack.jwt_secret(directory)
            env = stack.service_env(secret, broker.bootstrap, directory)
            env["SANPI_ENV"] = "test"
            for name in stack.SERVICES:
                # pg.sh start created sanpi_<service> in this cluster.
                env[f"SANPI_{name.upper()}_DATABASE_URL"] = postgres.url(f"sanpi_{name}")
            env["SANPI_NOTIFICATION_DELIVERY_BACKOFF_BASE_S"] = "0.2"
            env["SANPI_NOTIFICATION_DELIVERY_MAX_ATTEMPTS"] = "6"
            env.update(extra_env or {})
            services = ReplicaStack(directory, env, secret)
            for name in stack.SERVICES:
                services.replicas[name] = [
                    Replica(name, n, stack.free_port()) for n in range(1, replicas + 1)
                ]
            pids = {r.name: services.start(r) for r in services.all()}
            try:
                for replica in services.all():
                    services.wait_ready(replica, pids[replica.name], timeout=120)
                yield ChaosWorld(broker, postgres, services)
            finally:
                services.stop_all()
        finally:
            postgres.stop()
    finally:
        broker.stop()
