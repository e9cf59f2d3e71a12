"""Starts and stops the local sanpi stack (Kafka, the services, the portal, Prometheus,
Alertmanager, Jaeger) by recorded pid; tests reuse it.

    python scripts/stack.py up [--skip-demo] [--db sqlite|postgres]
                                               start what is not running, wait until ready, print URLs
    python scripts/stack.py down               stop the services, then the broker (SIGTERM, by pid)
    python scripts/stack.py status             what runs, on which port

Before it starts anything, `up` checks every port it needs and stops, naming the program, when
one is held by a program it did not start (Debian's Prometheus or PostgreSQL, started by apt,
hold 9090 and 5432). Each port moves with the variable of the part that listens on it:
SANPI_<SERVICE>_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT,
JAEGER_PORT (its UI and query API, 16686), JAEGER_OTLP_PORT (4318), JAEGER_GRPC_PORT (16685),
PG_PORT (e.g. `make up PROMETHEUS_PORT=9091`). The services send their traces to that Jaeger
(`make jaeger` builds it); TRACING=0 starts neither Jaeger nor tracing. ALERT_WEBHOOK_URL is where Alertmanager posts
the ops alerts (default http://127.0.0.1:9999/alertmanager); ALERTMANAGER_CONFIG a file of your
own instead of deploy/alertmanager/alertmanager.yml.

State lives under .run/: pids/, logs/, jwt.secret, admin.token, portal-admin.password,
<service>.db, kafka/, postgres/, prometheus/, alertmanager/; Jaeger keeps its spans in memory. Processes are only ever stopped through the pid file they were started
with, never by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / ".run"
# The admin token `make up` writes to .run/admin.token: the longest lifetime the services accept.
ADMIN_TOKEN_HOURS = 24
VENV_BIN = ROOT / ".venv" / "bin"
KAFKA_SH = ROOT / "deploy" / "kafka" / "kafka.sh"
PG_SH = ROOT / "deploy" / "postgres" / "pg.sh"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PROMETHEUS_MARKER = "--web.listen-address=127.0.0.1:"
ALERTMANAGER_DIR = ROOT / "deploy" / "alertmanager"
# The config's path: Prometheus's marker would match Alertmanager's command line too.
ALERTMANAGER_MARKER = "/alertmanager/alertmanager.yml"
# In deploy/prometheus/prometheus.yml and deploy/alertmanager/alertmanager.yml.
ALERTMANAGER_TARGET = "127.0.0.1:9095"
ALERT_WEBHOOK_URL = "http://127.0.0.1:9999/alertmanager"
JAEGER_CONFIG = ROOT / "deploy" / "jaeger" / "jaeger.yaml"
JAEGER_MARKER = "/deploy/jaeger/jaeger.yaml"
# `make jaeger` builds it here (pinned in the Makefile); one on the PATH does as well.
JAEGER_BINARY = RUN / "tools" / "bin" / "jaeger"

SERVICES: dict[str, int] = {"registry": 8001, "milestone": 8002, "notification": 8003}
# The people's front end: it calls the three services over HTTP and keeps only accounts.
PORTAL_PORT = 8000
PORTAL_ADMIN_PASSWORD_FILE = "portal-admin.password"  # noqa: S105 - a file name


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# The ports free_port() gave out in this process. A port is free until its user binds it, so
# two calls before the first user has started could give the same one (seen in CI: the test
# stack's registry and milestone were both given 44213 and the registry could not bind).
_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and that this process has not
    given out before."""
    held: list[socket.socket] = []
    try:
        while True:
            sock = socket.socket()
            held.append(sock)  # kept bound while we look, so the next bind gets another port
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            if port not in _GIVEN:
                _GIVEN.add(port)
                return port
    finally:
        for sock in held:
            sock.close()


def _pid_alive(pid: int, marker: str) -> bool:
    """True when `pid` runs and its command line contains `marker` (a reused pid does not count)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if not cmdline:
            # Empty for a zombie, but also for a moment right after exec (seen in 12 of 40
            # fresh Popen children): then the process state decides.
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            return state not in ("Z", "X")
    except (OSError, IndexError):
        return False
    return marker in cmdline


def read_pid(pidfile: Path, marker: str) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid, marker) else None


def start_service(
    name: str,
    *,
    port: int,
    env: dict[str, str],
    run_dir: Path,
    python: Path | None = None,
    launcher: Sequence[str] = (),
) -> int:
    """Starts `python -m sanpi.<name>` in its own session, logging to run_dir/logs; returns its pid.
    `launcher`: arguments before `-m sanpi.<name>`, for a module that runs it (bench.profiled)."""
    prefix = f"SANPI_{name.upper()}_"
    return spawn(
        name,
        [str(python or VENV_BIN / "python"), *launcher, "-m", f"sanpi.{name}"],
        marker=f"sanpi.{name}",
        run_dir=run_dir,
        env={**env, f"{prefix}PORT": str(port)},
    )


def spawn(
    name: str, command: list[str], *, marker: str, run_dir: Path, env: dict[str, str] | None = None
) -> int:
    """Starts `command` in its own session unless run_dir/pids/<name>.pid already runs it; logs to
    run_dir/logs/<name>.log; returns the pid. `marker` identifies the process in /proc/<pid>/cmdline."""
    pidfile = run_dir / "pids" / f"{name}.pid"
    existing = read_pid(pidfile, marker)
    if existing is not None:
        return existing
    (run_dir / "pids").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    with (run_dir / "logs" / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def stop_pidfile(
    pidfile: Path, marker: str, *, grace: float = 25.0, sig: int = signal.SIGTERM
) -> bool:
    """Signals the recorded pid (SIGTERM: graceful), waits `grace` s, then SIGKILLs. True if it ran."""
    pid = read_pid(pidfile, marker)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while _pid_alive(pid, marker) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _pid_alive(pid, marker):
        os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid, marker):
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)
    pidfile.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    # A child of this process stays a zombie (and "alive" in /proc) until it is waited for.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_ready(
    url: str, *, timeout: float = 60.0, pid: int | None = None, marker: str = ""
) -> None:
    """Polls GET url/readyz until it answers 200 and its body says Kafka is "ok" (or says nothing
    of Kafka); raises with the last answer after `timeout` seconds. A service is ready without
    Kafka (its writes wait in the outbox), but a stack that starts is wanted whole."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if pid is not None and not _pid_alive(pid, marker):
            raise RuntimeError(f"{marker} (pid {pid}) exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - loopback
                body = response.read().decode(errors="replace")
                if json.loads(body)["checks"].get("kafka", "ok") == "ok":
                    return
                last = body[:300]
        except urllib.error.HTTPError as exc:
            last = exc.read().decode(errors="replace")[:300]
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s: {last}")


def render_prometheus_config(
    targets: dict[str, str],
    *,
    interval: str = "15s",
    alertmanager: str | None = None,
    rules_dir: Path | None = None,
) -> str:
    """deploy/prometheus/prometheus.yml with other scrape targets/interval and absolute rule paths
    (of `rules_dir` when given: a test's copy with shorter `for:`). Alerts go to `alertmanager`
    (host:port); without one the alerting part is dropped, so that a test's Prometheus never
    notifies the Alertmanager of a running `make up`."""
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text()
    for name, port in SERVICES.items():
        text = text.replace(f'"127.0.0.1:{port}"', f'"{targets[name]}"')
    text = text.replace("scrape_interval: 15s", f"scrape_interval: {interval}")
    text = text.replace("evaluation_interval: 15s", f"evaluation_interval: {interval}")
    if alertmanager is None:
        head, _, rest = text.partition("\nalerting:\n")
        text = head + "\n" + rest.split("\n\n", 1)[1] if rest else text
    else:
        text = text.replace(f'"{ALERTMANAGER_TARGET}"', f'"{alertmanager}"')
    return text.replace("  - rules/", f"  - {rules_dir or PROMETHEUS_DIR / 'rules'}/")


def start_configured(
    name: str, binary: str | None, config: str, flags: Sequence[str], *, run_dir: Path, marker: str
) -> int | None:
    """Starts `binary` with `config` written to run_dir/<name>/<name>.yml and its state under
    run_dir/<name>/data (Prometheus, Alertmanager); None when it is not installed."""
    if binary is None:
        return None
    directory = run_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.yml").write_text(config)
    command = [binary, f"--config.file={directory / f'{name}.yml'}", *flags]
    return spawn(name, command, marker=marker, run_dir=run_dir)


def start_prometheus(config: str, *, port: int, run_dir: Path) -> int | None:
    """Starts Debian's Prometheus on 127.0.0.1:`port` with `config`; None when it is not installed."""
    data = run_dir / "prometheus" / "data"
    flags = [f"--storage.tsdb.path={data}", f"{PROMETHEUS_MARKER}{port}", "--web.enable-lifecycle"]
    return start_configured(
        "prometheus",
        shutil.which("prometheus"),
        config,
        flags,
        run_dir=run_dir,
        marker=PROMETHEUS_MARKER,
    )


def render_alertmanager_config(
    *, webhook_url: str = ALERT_WEBHOOK_URL, timing: Mapping[str, str] | None = None
) -> str:
    """deploy/alertmanager/alertmanager.yml posting to `webhook_url`; `timing` replaces route
    settings (a test waits seconds, not the 30 s group_wait)."""
    text = (ALERTMANAGER_DIR / "alertmanager.yml").read_text()
    text = text.replace(f"url: {ALERT_WEBHOOK_URL}", f"url: {webhook_url}")
    for key, value in (timing or {}).items():
        before = text
        text = re.sub(rf"^(  {key}:) \S+$", rf"\1 {value}", text, count=1, flags=re.MULTILINE)
        if text == before:
            raise ValueError(f"alertmanager.yml has no route setting {key!r}")
    return text


def start_alertmanager(config: str, *, port: int, run_dir: Path) -> int | None:
    """Starts Debian's prometheus-alertmanager on 127.0.0.1:`port` with `config`, without its
    cluster listener (0.0.0.0:9094 by default); None when it is not installed."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    flags = [
        f"--storage.path={run_dir / 'alertmanager' / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return start_configured(
        "alertmanager", binary, config, flags, run_dir=run_dir, marker=ALERTMANAGER_MARKER
    )


@dataclass(frozen=True)
class JaegerPorts:
    """Where a Jaeger listens: its UI and query API, its OTLP/HTTP receiver, its query gRPC."""

    ui: int
    otlp: int
    grpc: int

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui}"

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.otlp}"


def jaeger_binary() -> str | None:
    return str(JAEGER_BINARY) if JAEGER_BINARY.exists() else shutil.which("jaeger")


def start_jaeger(ports: JaegerPorts, *, run_dir: Path) -> int | None:
    """Starts Jaeger (deploy/jaeger/jaeger.yaml: OTLP/HTTP in, spans in memory) on 127.0.0.1 at
    `ports`; None when it is not built (make jaeger)."""
    binary = jaeger_binary()
    if binary is None:
        return None
    env = {
        "JAEGER_QUERY_ADDR": f"127.0.0.1:{ports.ui}",
        "JAEGER_QUERY_GRPC_ADDR": f"127.0.0.1:{ports.grpc}",
        "JAEGER_OTLP_HTTP_ADDR": f"127.0.0.1:{ports.otlp}",
    }
    command = [binary, f"--config={JAEGER_CONFIG}"]
    return spawn("jaeger", command, marker=JAEGER_MARKER, run_dir=run_dir, env=env)


def wait_http(url: str, *, timeout: float = 30.0) -> None:
    """Polls `url` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


# --- what holds a port -------------------------------------------------------------------------

# The fixed ports of `make up`, and the variable of the part that listens on each, which moves it.
PORT_VARIABLES: dict[str, tuple[int, str]] = {
    **{name: (port, f"SANPI_{name.upper()}_PORT") for name, port in SERVICES.items()},
    "portal": (PORTAL_PORT, "SANPI_PORTAL_PORT"),
    "kafka": (9092, "KAFKA_PORT"),
    "kafka-controller": (9093, "KAFKA_CONTROLLER_PORT"),
    "prometheus": (9090, "PROMETHEUS_PORT"),
    "alertmanager": (9095, "ALERTMANAGER_PORT"),
    "jaeger": (16686, "JAEGER_PORT"),
    "jaeger-otlp": (4318, "JAEGER_OTLP_PORT"),
    "jaeger-grpc": (16685, "JAEGER_GRPC_PORT"),
    "postgres": (5432, "PG_PORT"),
}
# What usually holds a port of ours on a Debian host, and what to do about it.
PORT_ADVICE = {
    "prometheus": "Debian's prometheus package starts one on 9090: `systemctl stop prometheus`",
    "postgres": "Debian's postgresql package starts a cluster on 5432: `systemctl stop postgresql`",
    "alertmanager": "Debian's prometheus-alertmanager listens on 9093/9094, not on ours",
}


def tracing_wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether `up` starts Jaeger and has the services trace to it (TRACING=0: neither)."""
    return env.get("TRACING", "1").strip() not in ("0", "false", "no")


def stack_ports(db: str, env: Mapping[str, str] = os.environ) -> dict[str, int]:
    """The port of every part `up` starts: its default, or the one its variable names."""
    ports = {}
    for name, (default, variable) in PORT_VARIABLES.items():
        if name == "postgres" and db != "postgres":
            continue
        if name.startswith("jaeger") and not tracing_wanted(env):
            continue
        value = env.get(variable, "").strip()
        if value and not (value.isdigit() and 0 < int(value) < 65536):
            raise SystemExit(f"{variable}={value!r} is not a port (1-65535)")
        ports[name] = int(value) if value else default
    return ports


@dataclass(frozen=True)
class Holder:
    """A process that listens on a port, as far as /proc lets this user see it."""

    pid: int | None
    user: str
    command: str

    def __str__(self) -> str:
        if self.pid is None:
            return f"a process of user {self.user} that this user cannot see (sudo ss -ltnp)"
        return f"pid {self.pid} ({self.user}): {self.command}"


def _listening_sockets(port: int) -> dict[int, int]:
    """inode → uid of every TCP socket listening on `port`, any address (/proc/net/tcp, tcp6)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is ADDR:PORT in hex; state 0A is LISTEN.
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found[int(fields[9])] = int(fields[7])
    return found


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(raw.decode(errors="replace").replace("\0", " ").split())[:200] or "?"


def port_holders(port: int) -> list[Holder]:
    """The processes listening on `port`: the socket's inode in /proc/net/tcp, its owner among
    the /proc/<pid>/fd links (another user's are unreadable without root: then only its user)."""
    sockets = _listening_sockets(port)
    if not sockets:
        return []
    links = {f"socket:[{inode}]": inode for inode in sockets}
    holders: dict[int, Holder] = {}
    seen: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                inode = links.get(os.readlink(fd))
            except OSError:
                continue
            if inode is not None:
                pid = int(entry.name)
                seen.add(inode)
                holders[pid] = Holder(pid, _user(sockets[inode]), _command(pid))
    unseen = [Holder(None, _user(uid), "") for inode, uid in sockets.items() if inode not in seen]
    return [*holders.values(), *unseen[:1]]


def port_free(port: int) -> bool:
    """True when 127.0.0.1:`port` can be bound now (as the servers bind it: SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def own_pids(name: str, run_dir: Path, env: Mapping[str, str] = os.environ) -> set[int]:
    """The pid this stack recorded for part `name`, if it runs: a process is ours only by that
    record, never by its name or command line (Debian's Prometheus looks like ours)."""
    if name in ("kafka", "kafka-controller"):
        kafka_dir = Path(env.get("KAFKA_DIR") or run_dir / "kafka")
        pid = read_pid(kafka_dir / "kafka.pid", "kafka.Kafka")
    elif name == "postgres":
        pg_dir = Path(env.get("PG_DIR") or run_dir / "postgres")
        try:
            cluster = Path((pg_dir / "cluster").read_text().strip())
        except OSError:
            cluster = pg_dir
        try:  # postmaster.pid: the pid on its first line, then the cluster's details
            first = (cluster / "data" / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first) if _pid_alive(int(first), "postgres") else None
        except (OSError, ValueError):
            pid = None
    elif name.startswith("jaeger"):
        pid = read_pid(run_dir / "pids" / "jaeger.pid", JAEGER_MARKER)
    else:
        marker = {"prometheus": PROMETHEUS_MARKER, "alertmanager": ALERTMANAGER_MARKER}
        pid = read_pid(run_dir / "pids" / f"{name}.pid", marker.get(name, f"sanpi.{name}"))
    return set() if pid is None else {pid}


def _ancestors(pid: int) -> set[int]:
    chain = set()
    while pid > 1 and pid not in chain:
        chain.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return chain


def port_conflicts(
    ports: Mapping[str, int], run_dir: Path, env: Mapping[str, str] = os.environ
) -> list[str]:
    """One line per port `up` needs that a program it did not start holds (naming the program
    and what to do); empty when every port is free or held by this stack's own part."""
    problems = []
    for name, port in ports.items():
        if port_free(port):
            continue
        holders = port_holders(port)
        ours = own_pids(name, run_dir, env)
        if holders and all(h.pid is not None and _ancestors(h.pid) & ours for h in holders):
            continue
        held = "; ".join(map(str, holders)) or "a socket this user cannot see (sudo ss -ltnp)"
        variable = PORT_VARIABLES[name][1]
        advice = PORT_ADVICE.get(name, "stop it")
        problems.append(
            f"  port {port} ({name}) is held by {held}\n"
            f"      {advice}, or move ours: make up {variable}=<another port>"
        )
    return problems


def kafka(command: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(KAFKA_SH), command], check=True, env={**os.environ, **(env or {})})


def jwt_secret(run_dir: Path) -> str:
    """The stack's signing secret: generated once into run_dir/jwt.secret, readable by its owner only."""
    path = run_dir / "jwt.secret"
    if not path.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def service_env(secret: str, bootstrap: str, data_dir: Path) -> dict[str, str]:
    return {
        "SANPI_JWT_SECRET": secret,
        "SANPI_KAFKA_BOOTSTRAP": bootstrap,
        "SANPI_DATA_DIR": str(data_dir),
        # Local only: lets a webhook receiver on this machine (127.0.0.1) get deliveries.
        "SANPI_NOTIFICATION_ALLOW_LOOPBACK_TARGETS": "true",
        # Local only: the demo load, the benches and the fault tests write as one admin as fast
        # as they can; the limiter has tests of its own (test_web_security.py).
        "SANPI_RATE_LIMIT_WRITES_PER_S": "0",
    }


def portal_env(urls: dict[str, str], run_dir: Path) -> dict[str, str]:
    """What the portal needs beyond the shared settings: where the services answer."""
    return {
        "SANPI_PORTAL_REGISTRY_URL": urls["registry"],
        "SANPI_PORTAL_MILESTONE_URL": urls["milestone"],
        "SANPI_PORTAL_NOTIFICATION_URL": urls["notification"],
        "SANPI_PORTAL_ADMIN_PASSWORD_FILE": str(run_dir / PORTAL_ADMIN_PASSWORD_FILE),
    }


def create_portal_admin(env: dict[str, str]) -> str:
    """`python -m sanpi.portal create-admin`: the admin account, once; returns its answer."""
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "sanpi.portal", "create-admin"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    ).stdout.strip()


def start_portal(*, port: int, env: dict[str, str], run_dir: Path, urls: dict[str, str]) -> int:
    """Creates the admin account if missing, then starts the portal; returns its pid."""
    portal = {**env, **portal_env(urls, run_dir)}
    create_portal_admin(portal)
    return start_service("portal", port=port, env=portal, run_dir=run_dir)


def postgres_urls() -> dict[str, str]:
    """Starts the local PostgreSQL (deploy/postgres/pg.sh) and returns each service's DB URL env."""
    subprocess.run([str(PG_SH), "start"], check=True)
    return {
        f"SANPI_{name.upper()}_DATABASE_URL": subprocess.run(
            [str(PG_SH), "url", name], check=True, capture_output=True, text=True
        ).stdout.strip()
        for name in (*SERVICES, "portal")
    }


def check_ports(ports: Mapping[str, int]) -> bool:
    """Says which ports are held by programs this stack did not start; False when any is."""
    problems = port_conflicts(ports, RUN)
    if problems:
        print(
            "make up: ports it needs are taken by programs it did not start; nothing was started.\n"
            + "\n".join(problems),
            file=sys.stderr,
        )
    return not problems


def start_alerting(ports: Mapping[str, int]) -> str:
    """Starts Alertmanager (ALERTMANAGER_CONFIG, or deploy/alertmanager posting to
    ALERT_WEBHOOK_URL) and returns the line `up` prints for it."""
    own = os.environ.get("ALERTMANAGER_CONFIG")
    config = (
        Path(own).read_text()
        if own
        else render_alertmanager_config(
            webhook_url=os.environ.get("ALERT_WEBHOOK_URL") or ALERT_WEBHOOK_URL
        )
    )
    port = ports["alertmanager"]
    if start_alertmanager(config, port=port, run_dir=RUN) is None:
        return "  alertmanager  not installed (make alertmanager installs Debian's package)"
    wait_http(f"http://127.0.0.1:{port}/-/ready")
    receiver = own or f"webhook {os.environ.get('ALERT_WEBHOOK_URL') or ALERT_WEBHOOK_URL}"
    return f"  alertmanager  http://127.0.0.1:{port}   (ops alerts to {receiver})"


def start_tracing(ports: Mapping[str, int], env: dict[str, str]) -> str:
    """Starts Jaeger before the services, so that their first spans have somewhere to go, and
    points them at it (env); returns the line `up` prints for it."""
    if not tracing_wanted():
        return "  jaeger        off (TRACING=0): the services do not trace"
    jaeger = JaegerPorts(ports["jaeger"], ports["jaeger-otlp"], ports["jaeger-grpc"])
    if start_jaeger(jaeger, run_dir=RUN) is None:
        return "  jaeger        not built (make jaeger builds it): the services do not trace"
    wait_http(f"{jaeger.ui_url}/api/services")
    env["SANPI_OTLP_ENDPOINT"] = jaeger.otlp_url
    return f"  jaeger        {jaeger.ui_url}   (traces; OTLP/HTTP in on {jaeger.otlp_url})"


def up(skip_demo: bool, db: str) -> int:
    started = time.monotonic()
    ports = stack_ports(db)
    if not check_ports(ports):
        return 1
    kafka("start")
    secret = jwt_secret(RUN)
    env = service_env(secret, f"127.0.0.1:{ports['kafka']}", RUN)
    # The bulletin (milestone) reads the registry's indicators over its API.
    env["SANPI_MILESTONE_REGISTRY_URL"] = f"http://127.0.0.1:{ports['registry']}"
    # A 旬 digest fetches its bulletin from the milestone API (a viewer token of a minute signed
    # with the same jwt_secret) and links robots to the portal's copy.
    env["SANPI_NOTIFICATION_MILESTONE_URL"] = f"http://127.0.0.1:{ports['milestone']}"
    if db == "postgres":
        env.update(postgres_urls())
    if not skip_demo:
        # The demo lists real companies' projects with generated progress: its bulletins say so.
        env["SANPI_MILESTONE_DEMO_DATA"] = "1"
    tracing = start_tracing(ports, env)
    pids = {}
    for name in SERVICES:
        pids[name] = start_service(name, port=ports[name], env=env, run_dir=RUN)
    for name in SERVICES:
        wait_ready(Service(name, ports[name]).url, pid=pids[name], marker=f"sanpi.{name}")
    token = subprocess.run(
        [
            str(VENV_BIN / "sanpi"),
            "token",
            "issue",
            "--role",
            "admin",
            "--subject",
            "admin",
            "--ttl-hours",
            str(ADMIN_TOKEN_HOURS),
            "--secret-file",
            str(RUN / "jwt.secret"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    token_path = RUN / "admin.token"
    token_path.write_text(token + "\n")
    token_path.chmod(0o600)
    if not skip_demo:
        # Idempotent (Idempotency-Key per record): a second `make up` replays, never duplicates.
        demo = subprocess.run(
            [str(VENV_BIN / "sanpi"), "demo", "load"],
            check=False,
            env={**os.environ, "SANPI_TOKEN": token},
        )
        if demo.returncode != 0:
            print("demo data: loading failed (see above); the stack runs without it")
    urls = {name: Service(name, ports[name]).url for name in SERVICES}
    portal_pid = start_portal(port=ports["portal"], env=env, run_dir=RUN, urls=urls)
    portal_url = Service("portal", ports["portal"]).url
    wait_ready(portal_url, pid=portal_pid, marker="sanpi.portal")
    print(f"\nsanpi is up ({time.monotonic() - started:.1f}s)\n")
    print(
        f"  portal        {portal_url}   user admin, password in "
        f"{(RUN / PORTAL_ADMIN_PASSWORD_FILE).relative_to(ROOT)}"
    )
    for name in SERVICES:
        url = f"http://127.0.0.1:{ports[name]}"
        print(f"  {name:<13} {url}   docs: {url}/docs")
    alerting = start_alerting(ports)
    prometheus_config = render_prometheus_config(
        {n: f"127.0.0.1:{ports[n]}" for n in SERVICES},
        alertmanager=f"127.0.0.1:{ports['alertmanager']}",
    )
    prometheus_port = ports["prometheus"]
    if start_prometheus(prometheus_config, port=prometheus_port, run_dir=RUN) is not None:
        wait_http(f"http://127.0.0.1:{prometheus_port}/-/ready")
        print(
            f"  prometheus    http://127.0.0.1:{prometheus_port}   (deploy/prometheus rules loaded)"
        )
    else:
        print("  prometheus    not installed (make prometheus installs Debian's package)")
    print(alerting)
    print(tracing)
    print(f"  kafka         127.0.0.1:{ports['kafka']}")
    database = (
        f"PostgreSQL on 127.0.0.1:{ports['postgres']} (.run/postgres)"
        if db == "postgres"
        else "SQLite (.run/<service>.db)"
    )
    print(f"  database      {database}")
    print(
        f"\n  admin token   {token_path.relative_to(ROOT)}  (export SANPI_TOKEN=$(cat .run/admin.token));"
        f" valid {ADMIN_TOKEN_HOURS} h, `make up` again mints a new one"
    )
    print(f"  logs          {(RUN / 'logs').relative_to(ROOT)}/\n")
    return 0


def down() -> int:
    if stop_pidfile(RUN / "pids" / "prometheus.pid", PROMETHEUS_MARKER):
        print("stopped prometheus")
    if stop_pidfile(RUN / "pids" / "alertmanager.pid", ALERTMANAGER_MARKER):
        print("stopped alertmanager")
    if stop_pidfile(RUN / "pids" / "portal.pid", "sanpi.portal"):
        print("stopped portal")
    for name in SERVICES:
        if stop_pidfile(RUN / "pids" / f"{name}.pid", f"sanpi.{name}"):
            print(f"stopped {name}")
    # After the services: their last spans leave as they stop.
    if stop_pidfile(RUN / "pids" / "jaeger.pid", JAEGER_MARKER):
        print("stopped jaeger")
    kafka("stop")
    if (RUN / "postgres").exists():
        subprocess.run([str(PG_SH), "stop"], check=False)
    return 0


def status() -> int:
    report = {}
    for name, port in {"portal": PORTAL_PORT, **SERVICES}.items():
        pid = read_pid(RUN / "pids" / f"{name}.pid", f"sanpi.{name}")
        report[name] = {"pid": pid, "url": f"http://127.0.0.1:{port}"} if pid else None
    print(json.dumps(report, indent=2))
    kafka_running = subprocess.run([str(KAFKA_SH), "status"], check=False).returncode == 0
    return 0 if kafka_running and all(report.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser(
        "up", help="start Kafka and the services, print URLs and the admin token"
    )
    up_parser.add_argument("--skip-demo", action="store_true", help="do not load the demo data set")
    up_parser.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="embedded SQLite or the local PostgreSQL",
    )
    sub.add_parser("down", help="stop the services, Kafka, Prometheus, Alertmanager and Jaeger")
    sub.add_parser("status", help="show what runs")
    args = parser.parse_args()
    if args.command == "up":
        return up(args.skip_demo, args.db)
    if args.command == "down":
        return down()
    return status()


if __name__ == "__main__":
    sys.exit(main())
