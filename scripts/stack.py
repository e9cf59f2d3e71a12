"""Starts and stops the local sanpi stack (Kafka, three services, the portal) by recorded pid;
tests reuse it.

    python scripts/stack.py up [--skip-demo] [--db sqlite|postgres]
                                               start what is not running, wait until ready, print URLs
    python scripts/stack.py down               stop the services, then the broker (SIGTERM, by pid)
    python scripts/stack.py status             what runs, on which port

State lives under .run/: pids/, logs/, jwt.secret, admin.token, portal-admin.password,
<service>.db, kafka/, postgres/.
Processes are only ever stopped through the pid file they were started with, never by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
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
    """Polls GET url/readyz until 200; raises with the last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if pid is not None and not _pid_alive(pid, marker):
            raise RuntimeError(f"{marker} (pid {pid}) exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = exc.read().decode(errors="replace")[:300]
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s: {last}")


def render_prometheus_config(targets: dict[str, str], *, interval: str = "15s") -> str:
    """deploy/prometheus/prometheus.yml with other scrape targets/interval and absolute rule paths."""
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text()
    for name, port in SERVICES.items():
        text = text.replace(f'"127.0.0.1:{port}"', f'"{targets[name]}"')
    text = text.replace("scrape_interval: 15s", f"scrape_interval: {interval}")
    text = text.replace("evaluation_interval: 15s", f"evaluation_interval: {interval}")
    return text.replace("  - rules/", f"  - {PROMETHEUS_DIR}/rules/")


def start_prometheus(config: str, *, port: int, run_dir: Path) -> int | None:
    """Starts Debian's Prometheus on 127.0.0.1:`port` with `config`; None when it is not installed."""
    binary = shutil.which("prometheus")
    if binary is None:
        return None
    directory = run_dir / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "prometheus.yml").write_text(config)
    command = [
        binary,
        f"--config.file={directory / 'prometheus.yml'}",
        f"--storage.tsdb.path={directory / 'data'}",
        f"{PROMETHEUS_MARKER}{port}",
        "--web.enable-lifecycle",
    ]
    return spawn("prometheus", command, marker=PROMETHEUS_MARKER, run_dir=run_dir)


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


def up(skip_demo: bool, db: str) -> int:
    started = time.monotonic()
    kafka("start")
    secret = jwt_secret(RUN)
    env = service_env(secret, "127.0.0.1:9092", RUN)
    if db == "postgres":
        env.update(postgres_urls())
    pids = {}
    for name, port in SERVICES.items():
        pids[name] = start_service(name, port=port, env=env, run_dir=RUN)
    for name, port in SERVICES.items():
        wait_ready(Service(name, port).url, pid=pids[name], marker=f"sanpi.{name}")
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
    urls = {name: Service(name, port).url for name, port in SERVICES.items()}
    portal_pid = start_portal(port=PORTAL_PORT, env=env, run_dir=RUN, urls=urls)
    portal_url = Service("portal", PORTAL_PORT).url
    wait_ready(portal_url, pid=portal_pid, marker="sanpi.portal")
    print(f"\nsanpi is up ({time.monotonic() - started:.1f}s)\n")
    print(
        f"  portal        {portal_url}   user admin, password in "
        f"{(RUN / PORTAL_ADMIN_PASSWORD_FILE).relative_to(ROOT)}"
    )
    for name, port in SERVICES.items():
        print(f"  {name:<13} http://127.0.0.1:{port}   docs: http://127.0.0.1:{port}/docs")
    prometheus_config = render_prometheus_config({n: f"127.0.0.1:{p}" for n, p in SERVICES.items()})
    if start_prometheus(prometheus_config, port=9090, run_dir=RUN) is not None:
        wait_http("http://127.0.0.1:9090/-/ready")
        print("  prometheus    http://127.0.0.1:9090   (deploy/prometheus rules loaded)")
    else:
        print("  prometheus    not installed (make prometheus installs Debian's package)")
    print("  kafka         127.0.0.1:9092")
    print(
        f"  database      {'PostgreSQL on 127.0.0.1:5432 (.run/postgres)' if db == 'postgres' else 'SQLite (.run/<service>.db)'}"
    )
    print(
        f"\n  admin token   {token_path.relative_to(ROOT)}  (export SANPI_TOKEN=$(cat .run/admin.token));"
        f" valid {ADMIN_TOKEN_HOURS} h, `make up` again mints a new one"
    )
    print(f"  logs          {(RUN / 'logs').relative_to(ROOT)}/\n")
    return 0


def down() -> int:
    if stop_pidfile(RUN / "pids" / "prometheus.pid", PROMETHEUS_MARKER):
        print("stopped prometheus")
    if stop_pidfile(RUN / "pids" / "portal.pid", "sanpi.portal"):
        print("stopped portal")
    for name in SERVICES:
        if stop_pidfile(RUN / "pids" / f"{name}.pid", f"sanpi.{name}"):
            print(f"stopped {name}")
    kafka("stop")
    if (RUN / "postgres" / "data" / "postmaster.pid").exists():
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
    sub.add_parser("down", help="stop the services and Kafka")
    sub.add_parser("status", help="show what runs")
    args = parser.parse_args()
    if args.command == "up":
        return up(args.skip_demo, args.db)
    if args.command == "down":
        return down()
    return status()


if __name__ == "__main__":
    sys.exit(main())
