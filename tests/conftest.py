"""Shared fixtures: a real Kafka broker, the three services as processes, webhook sinks."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from scripts import stack
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]

# `SANPI_TEST_DB=postgres pytest` runs the same suite against a real PostgreSQL (make test does both).
TEST_DB = os.environ.get("SANPI_TEST_DB", "sqlite")
if TEST_DB not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"SANPI_TEST_DB must be sqlite or postgres, not {TEST_DB!r}")

# The suite writes as one subject as fast as it can, in-process and through the stacks it starts
# (as scripts/stack.py's service_env does): the write limit has tests of its own
# (test_web_security.py), which set it.
os.environ.setdefault("SANPI_RATE_LIMIT_WRITES_PER_S", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each pass of make test runs what is about its database: a test marked db_independent would
    repeat itself to the letter in the PostgreSQL pass, and postgres_only has nothing to test on
    SQLite. A test marked chaos runs only when -m names it. They are deselected (counted as such
    in the summary), not skipped."""
    unwanted = ["db_independent" if TEST_DB == "postgres" else "postgres_only"]
    # The long fault schedules run in `make chaos` (-m chaos), not in make test.
    if "chaos" not in (config.option.markexpr or ""):
        unwanted.append("chaos")
    deselected = [item for item in items if any(item.get_closest_marker(m) for m in unwanted)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The counts of every fault run (tests/support/chaos.py), passed or failed."""
    from tests.support.chaos import REPORTED

    if REPORTED:
        terminalreporter.section("fault runs")
        for line in REPORTED:
            terminalreporter.write_line(line)


free_port = stack.free_port  # tests import it from here

# SQLite commits of the tests' services (as processes and in-process) wait for no disk sync:
# a test database needs no survival of a power loss, and FULL would slow every commit. A test
# that wants the production default unsets it (tests/unit/test_db.py).
os.environ.setdefault("SANPI_SQLITE_SYNCHRONOUS", "NORMAL")


@pytest.fixture(scope="session")
def run_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This test session's state under .run/test/<pid>; removed afterwards unless a test failed."""
    path = ROOT / ".run" / "test" / str(os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    yield path
    if request.session.testsfailed:
        print(f"\nkept {path} (logs of the failed run)")
    else:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Broker:
    """The session's Apache Kafka, started by deploy/kafka/kafka.sh on free ports."""

    directory: Path
    port: int
    controller_port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def script(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / "deploy/kafka/kafka.sh"), command],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> None:
        result = self.script("start")
        assert result.returncode == 0, result.stderr

    def stop(self) -> None:
        self.script("stop")

    def pid(self) -> int | None:
        return stack.read_pid(self.directory / "kafka.pid", "kafka.Kafka")

    def kill(self) -> None:
        """SIGKILL, for fault tests: no controlled shutdown."""
        pid = self.pid()
        assert pid is not None, "broker not running"
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def kafka_broker(run_dir: Path) -> Iterator[Broker]:
    broker = start_broker(run_dir / "kafka")
    try:
        yield broker
    finally:
        broker.stop()


@dataclass
class Stack:
    """The three services running as processes against the session broker."""

    urls: dict[str, str]
    secret: str
    run_dir: Path
    env: dict[str, str]

    def token(self, role: str = "admin", subject: str = "e2e", parks: tuple[str, ...] = ()) -> str:
        from sanpi.kit import Role, issue_token

        return issue_token(self.secret, subject=subject, role=Role(role), parks=parks)

    def headers(
        self, role: str = "admin", subject: str = "e2e", parks: tuple[str, ...] = ()
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject, parks)}"}

    def log(self, name: str) -> str:
        return (self.run_dir / "logs" / f"{name}.log").read_text(errors="replace")

    async def dump_stacks(self) -> list[str]:
        """Has every running service write its threads' and asyncio tasks' stacks to its log
        (sanpi.kit.stacks); returns the services that did. A test that timed out waiting on the
        services leaves its reader where each of them was waiting."""
        from sanpi.kit.stacks import DUMP_SIGNAL, END_OF_STACKS

        dumped = []
        for name in stack.SERVICES:
            pid = stack.read_pid(self.run_dir / "pids" / f"{name}.pid", f"sanpi.{name}")
            if pid is None:
                continue
            before = self.log(name).count(END_OF_STACKS)
            os.kill(pid, DUMP_SIGNAL)

            def written(name: str = name, before: int = before) -> bool:
                return self.log(name).count(END_OF_STACKS) > before

            await eventually(
                written,
                timeout=10,
                interval=0.1,
                what=f"{name} wrote its stacks",
            )
            dumped.append(name)
        return dumped


@contextmanager
def running_stack(
    bootstrap: str,
    directory: Path,
    postgres: Postgres | None,
    *,
    database_prefix: str = "sanpi",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """The three services as processes on free ports, each with its own empty database."""
    secret = stack.jwt_secret(directory)
    env = stack.service_env(secret, bootstrap, directory)
    env["SANPI_ENV"] = "test"
    for name in stack.SERVICES:
        # Explicit either way, so that a test's own database URL never leaks into a service.
        if postgres:
            database = f"{database_prefix}_{name}"
            created = postgres.script("createdb", database)
            assert created.returncode == 0, created.stderr
            url = postgres.url(database)
        else:
            url = f"sqlite+aiosqlite:///{directory}/{name}.db"
        env[f"SANPI_{name.upper()}_DATABASE_URL"] = url
    # Fast retries so that delivery tests finish in seconds, not minutes.
    env["SANPI_NOTIFICATION_DELIVERY_BACKOFF_BASE_S"] = "0.2"
    env["SANPI_NOTIFICATION_DELIVERY_MAX_ATTEMPTS"] = "6"
    env.update(extra_env or {})
    ports = {name: free_port() for name in stack.SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    # The milestone service's bulletin reads the registry's indicators over its API.
    env.setdefault("SANPI_MILESTONE_REGISTRY_URL", urls["registry"])
    pids = {}
    for name in stack.SERVICES:
        pids[name] = stack.start_service(name, port=ports[name], env=env, run_dir=directory)
    try:
        for name, url in urls.items():
            stack.wait_ready(url, timeout=60, pid=pids[name], marker=f"sanpi.{name}")
        yield Stack(urls=urls, secret=secret, run_dir=directory, env=env)
    finally:
        for name in stack.SERVICES:
            stack.stop_pidfile(directory / "pids" / f"{name}.pid", f"sanpi.{name}")


@pytest.fixture(scope="session")
def services(kafka_broker: Broker, run_dir: Path, postgres: Postgres | None) -> Iterator[Stack]:
    with running_stack(kafka_broker.bootstrap, run_dir / "stack", postgres) as running:
        yield running


def start_broker(directory: Path) -> Broker:
    """A broker of its own (KRaft, free ports), for tests that must not share the session's."""
    broker = Broker(directory, free_port(), free_port())
    broker.env = {
        "KAFKA_DIR": str(directory),
        "KAFKA_PORT": str(broker.port),
        "KAFKA_CONTROLLER_PORT": str(broker.controller_port),
        "KAFKA_FAST_START": "1",
        "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
    }
    broker.start()
    return broker


@dataclass
class Postgres:
    """The session's PostgreSQL cluster (deploy/postgres/pg.sh on a free port, fsync off)."""

    directory: Path
    port: int
    env: dict[str, str]

    @property
    def password(self) -> str:
        return (self.directory / "password").read_text().strip()

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://sanpi:{self.password}@127.0.0.1:{self.port}/{database}"

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / "deploy/postgres/pg.sh"), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture(scope="session")
def postgres(run_dir: Path) -> Iterator[Postgres | None]:
    if TEST_DB != "postgres":
        yield None
        return
    directory = run_dir / "postgres"
    port = free_port()
    cluster = Postgres(
        directory, port, {"PG_DIR": str(directory), "PG_PORT": str(port), "PG_FAST": "1"}
    )
    started = cluster.script("start")
    assert started.returncode == 0, started.stderr
    try:
        yield cluster
    finally:
        # Its files may live outside run_dir (pg.sh: a checkout the postgres user cannot enter).
        cluster.script("destroy")


@pytest.fixture(scope="session")
async def _postgres_admin(postgres: Postgres | None) -> AsyncIterator[asyncpg.Connection | None]:
    if postgres is None:
        yield None
        return
    connection = await asyncpg.connect(
        host="127.0.0.1",
        port=postgres.port,
        user="sanpi",
        password=postgres.password,
        database="postgres",
    )
    try:
        yield connection
    finally:
        await connection.close()


_database_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
async def database_url(
    tmp_path: Path,
    postgres: Postgres | None,
    _postgres_admin: asyncpg.Connection | None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[str]:
    """This test's own empty database. On PostgreSQL every service's SANPI_<SERVICE>_DATABASE_URL
    points at it (table names are unique across services), so an in-process app uses it unchanged.
    A test running several services in one process adds `service_databases`."""
    if postgres is None or _postgres_admin is None:
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    await _postgres_admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres.url(name)
    for service in stack.SERVICES:
        monkeypatch.setenv(f"SANPI_{service.upper()}_DATABASE_URL", url)
    yield url
    # ~7 MB each: kept, a run's test databases filled 5.7 GB of disk.
    await _postgres_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def service_databases(
    postgres: Postgres | None,
    another_database: Callable[[], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A database of its own for every service, as on SQLite (where each keeps a file in its
    data_dir) and in production: services cannot share one, since each keeps its Alembic history
    in the same `alembic_version` table."""
    if postgres is None:
        return
    for service in stack.SERVICES:
        monkeypatch.setenv(f"SANPI_{service.upper()}_DATABASE_URL", await another_database())


@pytest.fixture
async def another_database(
    tmp_path: Path, postgres: Postgres | None, _postgres_admin: asyncpg.Connection | None
) -> Callable[[], Awaitable[str]]:
    """Makes further empty databases for a test that needs two stores (e.g. export, then import
    into a fresh registry): new SQLite files, or new PostgreSQL databases."""
    made = itertools.count(1)

    async def make() -> str:
        number = next(made)
        if postgres is None or _postgres_admin is None:
            return f"sqlite+aiosqlite:///{tmp_path}/another-{number}.db"
        name = f"test_{os.getpid()}_{next(_database_numbers)}"
        await _postgres_admin.execute(f'CREATE DATABASE "{name}"')
        return postgres.url(name)

    return make


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink().start()
    try:
        yield sink
    finally:
        sink.stop()
