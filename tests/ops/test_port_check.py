"""make up's start-up check: before it starts anything, every port it needs is looked at, and a
port held by a program it did not start stops it with the port and the program named, even when
that program looks like one of its own (Debian's Prometheus on 9090)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts import stack
from tests.conftest import ROOT, free_port

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent


def overridden(db: str) -> tuple[dict[str, int], dict[str, str]]:
    """Every port `up` needs moved to a free one, by the variables `make up` documents."""
    ports = {
        name: free_port() for name in stack.PORT_VARIABLES if name != "postgres" or db == "postgres"
    }
    env = {stack.PORT_VARIABLES[name][1]: str(port) for name, port in ports.items()}
    return ports, env


@contextmanager
def listening(port: int) -> Iterator[socket.socket]:
    """A listener of this test's own on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_a_port_held_by_another_program_stops_up_before_anything_starts(
    tmp_path: Path, db: str
) -> None:
    ports, env = overridden(db)
    held = "prometheus" if db == "sqlite" else "postgres"
    with listening(ports[held]):
        result = subprocess.run(
            [sys.executable, "scripts/stack.py", "up", "--skip-demo", "--db", db],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                # Where the broker and the cluster would go, had the check let it start.
                "KAFKA_DIR": str(tmp_path / "kafka"),
                "PG_DIR": str(tmp_path / "postgres"),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        message = result.stderr
        assert f"port {ports[held]} ({held}) is held by pid {os.getpid()} (" in message
        assert "pytest" in message  # the holder's command line
        assert f"make up {stack.PORT_VARIABLES[held][1]}=<another port>" in message
        assert "nothing was started" in message
        assert message.count("is held by") == 1
        assert not (tmp_path / "kafka").exists()
        # Nothing listens on the other ports: nothing was started.
        assert all(stack.port_free(p) for name, p in ports.items() if name != held)


@pytest.mark.parametrize("name", sorted(stack.PORT_VARIABLES))
def test_every_port_up_needs_is_checked_and_named(tmp_path: Path, name: str) -> None:
    port = free_port()
    assert stack.port_conflicts({name: port}, tmp_path) == []
    with listening(port):
        (problem,) = stack.port_conflicts({name: port}, tmp_path)
    assert f"port {port} ({name}) is held by pid {os.getpid()}" in problem
    assert stack.PORT_VARIABLES[name][1] in problem


def test_a_server_that_looks_like_ours_is_not_ours_until_its_pid_is_the_recorded_one(
    tmp_path: Path,
) -> None:
    """A process whose command line carries our Prometheus's marker (as Debian's does: the same
    binary, a --web.listen-address) holds the port: refused; once the pid file of this stack
    names it, it is ours and `up` goes on."""
    port = free_port()
    server = tmp_path / "holder.py"
    server.write_text(
        "import socket, sys, time\n"
        "s = socket.socket()\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port}))\n"
        "s.listen()\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, str(server), f"{stack.PROMETHEUS_MARKER}{port}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        (problem,) = stack.port_conflicts({"prometheus": port}, tmp_path)
        assert f"is held by pid {process.pid} (" in problem
        assert f"{stack.PROMETHEUS_MARKER}{port}" in problem
        (tmp_path / "pids").mkdir()
        (tmp_path / "pids" / "prometheus.pid").write_text(f"{process.pid}\n")
        assert stack.port_conflicts({"prometheus": port}, tmp_path) == []
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_a_port_that_is_not_a_port_is_refused() -> None:
    with pytest.raises(SystemExit, match="PROMETHEUS_PORT='90x' is not a port"):
        stack.stack_ports("sqlite", {"PROMETHEUS_PORT": "90x"})
    assert stack.stack_ports("sqlite", {"PROMETHEUS_PORT": "9091"})["prometheus"] == 9091
    assert "postgres" not in stack.stack_ports("sqlite", {})
    assert stack.stack_ports("postgres", {})["postgres"] == 5432


def test_jaegers_ports_are_checked_unless_tracing_is_off() -> None:
    ports = stack.stack_ports("sqlite", {"JAEGER_OTLP_PORT": "14318"})
    assert (ports["jaeger"], ports["jaeger-otlp"], ports["jaeger-grpc"]) == (16686, 14318, 16685)
    off = stack.stack_ports("sqlite", {"TRACING": "0"})
    assert not [name for name in off if name.startswith("jaeger")]
