"""The SDK and the `sanpi` command line stand alone: the client package depends on httpx, typer,
rich and sanpi-events only, and `sanpi --help` works where neither the kit nor FastAPI,
SQLAlchemy or aiokafka can be imported. The commands that need the kit are `sanpi-admin`'s."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "libs" / "client"
ALLOWED = {"sanpi-events", "httpx", "typer", "rich"}
FORBIDDEN = ("sanpi.kit", "sanpi.admin", "fastapi", "sqlalchemy", "sqlmodel", "aiokafka", "asyncpg")

# Runs the client's command line with the forbidden packages made unimportable, as in a fresh
# environment where only the client was installed.
BLOCKED_HELP = """
import importlib.abc, sys
FORBIDDEN = {forbidden!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
from sanpi.client.cli import app
try:
    app({args!r}, prog_name="sanpi")
except SystemExit as done:
    assert done.code in (0, None), done.code
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in ("fastapi", "sqlalchemy", "aiokafka")))
"""


def dependency_names(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {
        spec.split(">")[0].split("=")[0].split("<")[0].strip() for spec in project["dependencies"]
    }


def test_the_client_depends_on_httpx_typer_rich_and_the_events_only() -> None:
    assert dependency_names(CLIENT / "pyproject.toml") == ALLOWED


def test_no_client_module_imports_the_kit_or_the_server_libraries() -> None:
    # The one import of sanpi-admin is optional: `sanpi` mounts its commands where it is installed.
    forbidden = tuple(f for f in FORBIDDEN if f != "sanpi.admin")
    offenders = []
    for path in sorted((CLIENT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if any(name == f or name.startswith(f + ".") for f in forbidden)
            ]
    assert offenders == []


def run_blocked(*args: str) -> subprocess.CompletedProcess[str]:
    code = BLOCKED_HELP.format(forbidden=FORBIDDEN, args=list(args))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_sanpi_help_works_without_the_kit_and_without_its_admin_commands() -> None:
    done = run_blocked("--help")
    assert done.returncode == 0, done.stderr
    assert "projects" in done.stdout
    assert "progress" in done.stdout
    assert "loaded: []" in done.stdout
    listed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ")}
    assert {"projects", "progress", "milestone"} <= listed
    assert not listed & {"token", "dlq", "offsets"}


def test_a_client_command_s_help_works_without_the_kit() -> None:
    done = run_blocked("progress", "batch", "--help")
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout


def test_sanpi_admin_has_the_kit_commands_and_sanpi_mounts_them_beside_the_services() -> None:
    from typer.main import get_command

    from sanpi.admin.cli import app as admin
    from sanpi.client.cli import app as client

    admin_commands = set(getattr(get_command(admin), "commands", {}))
    assert admin_commands == {"token", "dlq", "offsets", "rebuild"}
    # `rebuild` needs the services themselves (their projections), so only sanpi-admin has it.
    mounted = set(getattr(get_command(client), "commands", {}))
    assert admin_commands - {"rebuild"} <= mounted
    assert "rebuild" not in mounted


def test_a_fresh_environment_with_the_client_alone_runs_sanpi_help(tmp_path: Path) -> None:
    # The issue's own check: install the client (and the events it depends on) alone into a new
    # virtual environment, from the package index as a user would, with uv (pip's resolver, the
    # project's cache), and run `sanpi --help` there.
    uv = Path(sys.executable).parent / "uv"
    venv = tmp_path / "client-only"
    subprocess.run(
        [str(uv), "venv", "-q", str(venv), "--python", sys.executable], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            ROOT / "libs" / "events",
            CLIENT,
        ],
        check=True,
        timeout=300,
    )
    helped = subprocess.run(
        [str(venv / "bin" / "sanpi"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert "sanpi (三批)" in helped.stdout
    missing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print([m for m in "
            "('fastapi', 'sqlalchemy', 'sqlmodel', 'aiokafka', 'asyncpg', 'sanpi.kit') "
            "if u.find_spec(m.split('.')[0]) is not None and u.find_spec(m) is not None])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.stdout.strip() == "[]", missing.stdout + missing.stderr
