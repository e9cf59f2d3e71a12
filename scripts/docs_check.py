"""Runs every shell command of the docs, in order, against a real stack on free ports.

    .venv/bin/python -m scripts.docs_check [--list] [DOC ...]      (make docs-check)

Each document gets one bash (`set -euo pipefail`), like one terminal of a reader who types its
```bash blocks in order: exports and shell functions carry over from block to block. The stack is
what `make up` gives the reader (Kafka, the three services on SQLite under one data directory,
Prometheus, Alertmanager, .run/jwt.secret and .run/admin.token), but on free ports and under
.run/docs-check/<pid>/, so that it never meets a real `make up` or another test run. The commands
are rewritten for that: the fixed ports (8001-8003, 9092, 9090, 9095, 5432 and the few extra ports the
docs use) become the free ones, and `.run/` becomes the check's directory. The environment starts
without any SANPI_* variable: what a command needs, the doc must tell the reader to set.

A document steers the check with an HTML comment right above a fenced block:
    <!-- docs-check: skip REASON -->           not run (docker compose, kubectl, make up …); listed
                                               with its reason; docker compose, kubectl and make
                                               commands are validated another way
    <!-- docs-check: background -->            a server the reader starts in a second terminal:
                                               run in the background, stopped at the document's end
    <!-- docs-check: retry SECONDS -->          re-run until it succeeds (the docs say why: an event
                                               still on its way through Kafka)
    <!-- docs-check: expect "TEXT" -->          the block's output must contain TEXT
    <!-- docs-check: await "TEXT" SECONDS -->   (above any block) wait until the document's output,
                                               background servers included, shows TEXT
    <!-- docs-check: timeout SECONDS -->        allow a slow block more than 120 s
Several directives may share one comment, separated by `;`. Shell blocks are ```bash, ```sh or
```shell; a command-looking line in any other block is an error (a reader would still type it).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from scripts import stack

ROOT = Path(__file__).resolve().parents[1]

SHELLS = ("bash", "sh", "shell")
BLOCK_TIMEOUT_S = 120.0
MARK = "@@docs-check block"
# `.run/` subfolders shared by every stack of a checkout: never redirected.
SHARED_RUN = ("kafka-libs", "tools")
# The fixed ports of `make up` and the extra ones the docs may use (a second replica, a webhook
# receiver): each becomes a free port of the check's own stack.
STACK_PORTS = {
    "registry": 8001,
    "milestone": 8002,
    "notification": 8003,
    "kafka": 9092,
    "kafka-controller": 9093,
    "prometheus": 9090,
    "alertmanager": 9095,
    "postgres": 5432,
}
# 16686: Jaeger's query API, in blocks skipped for want of a Jaeger (the e2e tracing test reads it).
EXTRA_PORTS = (8011, 8012, 8013, 9999, 16686)
# First words that make a line a command wherever it appears.
COMMAND_WORDS = {
    "curl",
    "python",
    "python3",
    "export",
    "docker",
    "kubectl",
    "kustomize",
    "pg_dump",
    "psql",
    "git",
    "cd",
    "deploy/kafka/kafka.sh",
    "deploy/postgres/pg.sh",
}
DIRECTIVE = re.compile(r"<!--\s*docs-check:(.*?)-->", re.DOTALL)
PORT_USES = re.compile(r"(?:127\.0\.0\.1|localhost):(\d{2,5})|--port[ =](\d{2,5})|_PORT=(\d{2,5})")


class DocsError(Exception):
    """A document the check cannot accept (a bad directive, a command in a text block…)."""


# --- reading documents --------------------------------------------------------------------------


@dataclass(frozen=True)
class Directives:
    skip: str | None = None
    background: bool = False
    retry_s: float | None = None
    timeout_s: float = BLOCK_TIMEOUT_S
    expect: tuple[str, ...] = ()
    awaits: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str
    directives: Directives

    @property
    def is_shell(self) -> bool:
        return self.info.split()[0] in SHELLS if self.info else False

    @property
    def where(self) -> str:
        return f"{shown(self.doc)}:{self.line}"


def shown(path: Path) -> str:
    """A path as the docs name it: relative to the checkout when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def split_directives(comment: str) -> list[str]:
    """Splits at `;` outside double quotes; `skip REASON` ends the list (its reason is free text)."""
    parts, current, quoted, escaped = [], "", False, False
    for index, char in enumerate(comment):
        if not quoted and not current.strip() and comment[index:].startswith("skip "):
            current = comment[index:]
            break
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def parse_directives(comment: str, where: str) -> Directives:
    skip, background, retry, timeout = None, False, None, BLOCK_TIMEOUT_S
    expect: list[str] = []
    awaits: list[tuple[str, float]] = []
    for part in split_directives(comment):
        word, _, rest = part.partition(" ")
        rest = rest.strip()
        if word == "skip":
            if not rest:
                raise DocsError(f"{where}: `skip` needs a reason")
            skip = rest
        elif word == "background":
            background = True
        elif word in ("retry", "timeout"):
            try:
                seconds = float(rest)
            except ValueError:
                raise DocsError(f"{where}: `{word}` needs seconds, not {rest!r}") from None
            retry, timeout = (seconds, timeout) if word == "retry" else (retry, seconds)
        elif word in ("expect", "await"):
            # "TEXT" may hold \" for a double quote.
            quoted = re.fullmatch(r'"((?:[^"\\]|\\.)+)"\s*([\d.]+)?', rest)
            if quoted is None or (word == "await") != bool(quoted.group(2)):
                usage = '"TEXT" SECONDS' if word == "await" else '"TEXT"'
                raise DocsError(f"{where}: write `{word} {usage}`")
            text = re.sub(r"\\(.)", r"\1", quoted.group(1))
            if word == "expect":
                expect.append(text)
            else:
                awaits.append((text, float(quoted.group(2))))
        else:
            raise DocsError(f"{where}: unknown docs-check directive {word!r}")
    return Directives(skip, background, retry, timeout, tuple(expect), tuple(awaits))


def blocks(doc: Path) -> list[Block]:
    """The fenced blocks of `doc`, each with the directives of the comment right above it."""
    lines = doc.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        fence = re.match(r"^ {0,3}(`{3,}|~{3,})\s*(.*)$", lines[index])
        if fence is None:
            index += 1
            continue
        opening, info, start = fence.group(1), fence.group(2).strip(), index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip().startswith(opening):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        where = f"{shown(doc)}:{start + 1}"
        above = start - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        comment = ""
        if above >= 0 and lines[above].strip().endswith("-->"):
            first = above
            while first > 0 and "<!--" not in lines[first]:
                first -= 1
            match = DIRECTIVE.search("\n".join(lines[first : above + 1]))
            comment = match.group(1) if match else ""
        found.append(Block(doc, start + 1, info, "\n".join(body), parse_directives(comment, where)))
    return found


def commands(text: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined, blank and comment lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield stripped


def looks_like_a_command(words: list[str]) -> bool:
    if not words:
        return False
    if words[0] in ("sanpi", ".venv/bin/sanpi"):
        return len(words) > 1 and words[1] in cli_commands()
    if words[0] == "make":
        return len(words) == 1 or bool(
            re.search(rf"^{re.escape(words[1])}:", (ROOT / "Makefile").read_text(), re.MULTILINE)
        )
    return words[0] in COMMAND_WORDS or words[0].startswith(".venv/bin/")


@functools.cache
def cli_commands() -> frozenset[str]:
    """The `sanpi` subcommands, so that "sanpi is up" is prose and "sanpi projects" a command."""
    import typer

    from sanpi.client.cli import app

    commands: dict[str, object] = getattr(typer.main.get_command(app), "commands", {})
    return frozenset(commands)


def lint(block: Block) -> None:
    """Refuses what a reader could type but the check would not run as written."""
    if block.is_shell:
        for match in PORT_USES.finditer(block.text):
            port = int(next(g for g in match.groups() if g))
            if port not in (*STACK_PORTS.values(), *EXTRA_PORTS):
                raise DocsError(
                    f"{block.where}: port {port} is not one the check maps to a free port "
                    f"(use one of {sorted((*STACK_PORTS.values(), *EXTRA_PORTS))})"
                )
        return
    if block.directives.skip or block.directives.background or block.directives.expect:
        raise DocsError(f"{block.where}: skip/background/expect only apply to shell blocks")
    if block.info.split()[:1] == ["console"]:
        raise DocsError(f"{block.where}: fence commands as ```bash, not ```console")
    for line in block.text.splitlines():
        if looks_like_a_command(line.strip().removeprefix("$ ").split()):
            raise DocsError(
                f"{block.where}: {line.strip()!r} looks like a command in a "
                f"```{block.info or '(no language)'} block; fence it as ```bash so that it is run"
            )


# --- the stack ----------------------------------------------------------------------------------


@dataclass
class CheckStack:
    """What `make up` gives a reader, on free ports, under .run/docs-check/<pid>."""

    directory: Path
    ports: dict[int, int] = field(default_factory=dict)  # fixed port of the docs → free port
    service_env: dict[str, str] = field(default_factory=dict)

    @property
    def tool_env(self) -> dict[str, str]:
        """Where kafka.sh and pg.sh keep this stack's broker and cluster (their defaults' stand-ins)."""
        return {
            "KAFKA_DIR": str(self.directory / "kafka"),
            "KAFKA_PORT": str(self.ports[STACK_PORTS["kafka"]]),
            "KAFKA_CONTROLLER_PORT": str(self.ports[STACK_PORTS["kafka-controller"]]),
            "KAFKA_FAST_START": "1",
            "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
            "PG_DIR": str(self.directory / "postgres"),
            "PG_PORT": str(self.ports[STACK_PORTS["postgres"]]),
            "PG_FAST": "1",
        }

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[STACK_PORTS[service]]}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for port in (*STACK_PORTS.values(), *EXTRA_PORTS):
            self.ports[port] = stack.free_port()
        secret = stack.jwt_secret(self.directory)
        bootstrap = f"127.0.0.1:{self.ports[STACK_PORTS['kafka']]}"
        self.service_env = stack.service_env(secret, bootstrap, self.directory)
        self.service_env["SANPI_MILESTONE_REGISTRY_URL"] = self.url("registry")
        self.service_env["SANPI_NOTIFICATION_MILESTONE_URL"] = self.url("milestone")
        for name in stack.SERVICES:
            # Explicit, so that no database URL of the calling shell or test leaks in.
            self.service_env[f"SANPI_{name.upper()}_DATABASE_URL"] = (
                f"sqlite+aiosqlite:///{self.directory / name}.db"
            )
        self.ensure_running()
        from sanpi.kit import Role, issue_token

        token = self.directory / "admin.token"
        token.write_text(issue_token(secret, subject="admin", role=Role.ADMIN) + "\n")
        token.chmod(0o600)
        targets = {name: self.url(name).removeprefix("http://") for name in stack.SERVICES}
        alertmanager_port = self.ports[STACK_PORTS["alertmanager"]]
        # The docs' webhook receiver (port 9999) gets the alerts, as make up's would.
        receiver = f"http://127.0.0.1:{self.ports[9999]}/alertmanager"
        # A 2 s group_wait instead of 30 s, as the Prometheus here scrapes every 2 s: the docs'
        # route check waits for the receiver's line, not for the clock.
        alerting = stack.render_alertmanager_config(
            webhook_url=receiver, timing={"group_wait": "2s"}
        )
        if stack.start_alertmanager(alerting, port=alertmanager_port, run_dir=self.directory):
            stack.wait_http(f"http://127.0.0.1:{alertmanager_port}/-/ready")
        prometheus_port = self.ports[STACK_PORTS["prometheus"]]
        config = stack.render_prometheus_config(
            targets, interval="2s", alertmanager=f"127.0.0.1:{alertmanager_port}"
        )
        if stack.start_prometheus(config, port=prometheus_port, run_dir=self.directory):
            stack.wait_http(f"http://127.0.0.1:{prometheus_port}/-/ready")

    def ensure_running(self) -> None:
        """Starts whatever is not running (a document may have restarted the broker)."""
        env = {**os.environ, **self.tool_env}
        subprocess.run([str(stack.KAFKA_SH), "start"], check=True, env=env, capture_output=True)
        pids = {
            name: stack.start_service(
                name,
                port=self.ports[port],
                env=self.service_env,
                run_dir=self.directory,
            )
            for name, port in STACK_PORTS.items()
            if name in stack.SERVICES
        }
        for name, pid in pids.items():
            stack.wait_ready(self.url(name), timeout=90, pid=pid, marker=f"sanpi.{name}")

    def stop(self) -> None:
        stack.stop_pidfile(self.directory / "pids" / "prometheus.pid", stack.PROMETHEUS_MARKER)
        stack.stop_pidfile(self.directory / "pids" / "alertmanager.pid", stack.ALERTMANAGER_MARKER)
        for name in stack.SERVICES:
            stack.stop_pidfile(self.directory / "pids" / f"{name}.pid", f"sanpi.{name}")
        env = {**os.environ, **self.tool_env}
        subprocess.run([str(stack.KAFKA_SH), "stop"], check=False, env=env, capture_output=True)
        if (self.directory / "postgres").exists():
            # destroy: the cluster's files may live outside the check's directory (pg.sh).
            subprocess.run([str(stack.PG_SH), "destroy"], check=False, env=env, capture_output=True)

    def reader_env(self) -> dict[str, str]:
        """The environment of a reader's terminal after `make up`, pointed at this stack."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SANPI_", "KAFKA_", "PG_", "VIRTUAL_ENV"))
        }
        # The reader's PATH does not hold .venv/bin unless the doc says to put it there.
        venv = str(ROOT / ".venv" / "bin")
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv)
        env.update(self.tool_env)
        env.update(
            {
                # The defaults of the CLI, the services and scripts/read_topic.py, moved here.
                **{f"SANPI_{n.upper()}_URL": self.url(n) for n in stack.SERVICES},
                "SANPI_KAFKA_BOOTSTRAP": self.service_env["SANPI_KAFKA_BOOTSTRAP"],
                "SANPI_DATA_DIR": str(self.directory),
                "COLUMNS": "160",
            }
        )
        return env

    @property
    def relative(self) -> Path:
        return self.directory.relative_to(ROOT)

    def rewrite(self, text: str) -> str:
        """A command as the reader types it → the same command against this stack."""
        ports = "|".join(str(p) for p in self.ports)
        text = re.sub(
            rf"(?<![\w.])({ports})(?!\d)", lambda m: str(self.ports[int(m.group(1))]), text
        )
        shared = "|".join(SHARED_RUN)
        return re.sub(rf"(?<![\w.-])\.run/(?!(?:{shared})\b)", f"{self.relative}/", text)

    def substitutions(self) -> list[str]:
        lines = [f"port {fixed} → {free}" for fixed, free in sorted(self.ports.items())]
        return [*lines, f".run/ → {self.relative}/ (except {', '.join(SHARED_RUN)})"]


# --- running one document -----------------------------------------------------------------------

PRELUDE = "set -euo pipefail\n"


@dataclass
class Outcome:
    block: Block
    status: str  # ran, skipped, awaited
    seconds: float = 0.0
    note: str = ""


@dataclass
class DocumentReport:
    doc: Path
    outcomes: list[Outcome] = field(default_factory=list)
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class Shell:
    """One bash reading the document's blocks from stdin; output goes to one log file."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.log = directory / "output.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        self._send(PRELUDE)

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def output(self, start: int = 0) -> str:
        return self.log.read_bytes()[start:].decode(errors="replace")

    def run(self, number: int, text: str, directives: Directives) -> str:
        """Runs one block; returns its output; raises DocsError when it fails, hangs, or (after
        its retries) lacks an expected text."""
        script = self.directory / f"block-{number}.sh"
        script.write_text(text + "\n")
        if directives.background:
            return self._send_and_wait(f"{number}", f"( source {script} ) </dev/null &", 30)[1]
        if directives.retry_s is None:
            # In the shell itself, so that exports and functions stay for the next blocks; a
            # failing command ends the shell (set -e) and with it the document.
            output = self._send_and_wait(
                f"{number}", f"source {script} </dev/null", directives.timeout_s
            )[1]
            self._expect(output, directives)
            return output
        # In a subshell, so that a failed attempt does not end the shell.
        deadline = time.monotonic() + directives.retry_s
        attempt = 0
        while True:
            attempt += 1
            line = f"set +e; ( set -e; source {script} ) </dev/null; __rc=$?; set -e"
            rc, output = self._send_and_wait(
                f"{number}.{attempt}", line, directives.timeout_s, status="$__rc"
            )
            try:
                if rc != 0:
                    raise DocsError(f"failed (exit {rc}) for {directives.retry_s:g}s:\n{output}")
                self._expect(output, directives)
                return output
            except DocsError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(1)

    @staticmethod
    def _expect(output: str, directives: Directives) -> None:
        for text in directives.expect:
            if text not in output:
                raise DocsError(f"output lacks {text!r}:\n{output}")

    def _send_and_wait(
        self, tag: str, line: str, timeout: float, *, status: str = "0"
    ) -> tuple[int, str]:
        """Sends one command line and an end marker carrying `status`; waits for the marker;
        returns (exit status, output)."""
        start = self.log.stat().st_size
        marker = f"{MARK} {tag} exit="
        self._send(f"{line}\nprintf '\\n%s%d\\n' '{marker}' {status}\n")
        deadline = time.monotonic() + timeout
        while True:
            output = self.output(start)
            found = re.search(rf"{re.escape(marker)}(\d+)", output)
            if found:
                return int(found.group(1)), output[: found.start()]
            if self.proc.poll() is not None:
                # Read again: what the shell wrote between the read above and its end (the
                # lines before a failing command) would be missing from the report.
                output = self.output(start)
                raise DocsError(f"failed (exit {self.proc.returncode}):\n{output}")
            if time.monotonic() > deadline:
                raise DocsError(f"still running after {timeout:g}s:\n{output}")
            time.sleep(0.05)

    def wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            if time.monotonic() > deadline:
                raise DocsError(f"{text!r} did not appear within {seconds:g}s")
            time.sleep(0.1)

    def close(self) -> None:
        """Ends the shell, then whatever it left running (background servers), by process group."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self._send("exit 0\n")
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=3)  # instant, unless a block still runs (a timeout)
        group = self.proc.pid
        for sig, grace in ((signal.SIGTERM, 25.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self.proc.poll()  # reaps the shell: a zombie would keep the group alive
                try:
                    os.killpg(group, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._log_file.close()


def run_document(doc: Path, check: CheckStack) -> DocumentReport:
    """Runs the document's shell blocks in order in one bash; validates the skipped ones."""
    report = DocumentReport(doc)
    parsed = blocks(doc)
    for block in parsed:
        lint(block)
    check.ensure_running()
    slug = shown(doc).replace("/", "_").removesuffix(".md")
    shell = Shell(check.reader_env(), check.directory / "shell" / slug)
    exported: list[str] = []
    try:
        for number, block in enumerate(parsed, start=1):
            started = time.monotonic()
            try:
                for text, seconds in block.directives.awaits:
                    shell.wait_for(check.rewrite(text), seconds)
                    report.outcomes.append(Outcome(block, "awaited", note=text))
                if not block.is_shell:
                    continue
                if block.directives.skip:
                    note = validate_skipped(block, exported)
                    report.outcomes.append(Outcome(block, "skipped", note=note))
                    continue
                directives = replace(
                    block.directives, expect=tuple(map(check.rewrite, block.directives.expect))
                )
                shell.run(number, check.rewrite(block.text), directives)
                exported += re.findall(r"(?:^|\s)export\s+(\w+)=", block.text)
                kind = "background" if block.directives.background else "ran"
                report.outcomes.append(Outcome(block, kind, time.monotonic() - started))
            except DocsError as exc:
                report.failure = f"{block.where}: {exc}"
                return report
    finally:
        shell.close()
    return report


# --- what cannot run here, checked another way --------------------------------------------------


def env_prefix(words: list[str]) -> tuple[set[str], list[str]]:
    """The NAME=value words before a command, and the command's words."""
    names = set()
    while words and re.fullmatch(r"\w+=.*", words[0]):
        names.add(words[0].split("=", 1)[0])
        words = words[1:]
    return names, words


def validate_skipped(block: Block, exported: list[str]) -> str:
    """Validates each docker compose, kubectl and make command of a skipped block."""
    notes = []
    known = set(exported)
    for command in commands(block.text):
        # A command substitution is one opaque word here: VAR=$(openssl rand -hex 32) assigns VAR.
        command = re.sub(r"\$\([^()]*\)", "SUBSTITUTED", command)
        for part in re.split(r"\s*(?:&&|\|\||;)\s*", command):
            assigned, words = env_prefix(shlex.split(part, comments=True))
            if words[:1] == ["export"]:
                known |= env_prefix(words[1:])[0]
            elif words[:2] == ["docker", "compose"]:
                notes.append(validate_compose(words[2:], assigned | known, block))
            elif words[:1] == ["kubectl"]:
                notes.append(validate_kubectl(words[1:], block))
            elif words[:1] == ["make"]:
                notes.append(validate_make(words[1:], block))
    return "; ".join(notes)


def validate_compose(args: list[str], assigned: set[str], block: Block) -> str:
    files = [ROOT / "docker-compose.yml"]
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in ("-f", "--file"):
            files = [ROOT / args.pop(0)]
    for path in files:
        if not path.exists():
            raise DocsError(f"{block.where}: docker compose file {path} does not exist")
    text = files[0].read_text()
    services = set(yaml.safe_load(text)["services"])
    required = set(re.findall(r"\$\{(\w+):\?", text))
    if not args:
        raise DocsError(f"{block.where}: docker compose without a subcommand")
    subcommand, rest = args[0], args[1:]
    named = [a for a in rest if not a.startswith("-")]
    if subcommand in ("exec", "run"):
        named = named[:1]
    unknown = [n for n in named if n not in services]
    if unknown:
        raise DocsError(f"{block.where}: docker compose: no service {unknown} in {files[0].name}")
    if subcommand == "up":
        missing = required - assigned
        if missing:
            raise DocsError(
                f"{block.where}: docker compose up needs {sorted(missing)} (the compose file "
                "requires them); set them in the command or export them before"
            )
    return f"docker compose {subcommand}: services {named or 'all'} exist, required variables set"


def rendered(directory: Path) -> list[dict[str, object]]:
    binary = ROOT / ".run" / "tools" / "bin" / "kustomize"
    if not binary.exists():
        raise DocsError("kustomize missing: `make tools` installs it into .run/tools/bin")
    result = subprocess.run(
        [str(binary), "build", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DocsError(f"kustomize build {directory} failed: {result.stderr}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def validate_kubectl(args: list[str], block: Block) -> str:
    notes = []
    documents: list[dict[str, object]] = []
    named = []
    remaining = list(args)
    while remaining:
        arg = remaining.pop(0)
        if arg in ("-k", "--kustomize"):
            directory = remaining.pop(0)
            documents += rendered(ROOT / directory)
            notes.append(f"kustomize build {directory}")
        elif arg in ("-f", "--filename"):
            name = remaining.pop(0)
            path = ROOT / name
            if not path.exists():
                raise DocsError(f"{block.where}: kubectl -f {name}: no such file")
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if d]
            if not all(isinstance(d, dict) and "kind" in d for d in loaded):
                raise DocsError(f"{block.where}: {name} holds a document without a kind")
            documents += loaded
            notes.append(f"{name} parses ({len(loaded)} objects)")
        elif re.fullmatch(r"[a-z]+/[\w.-]+", arg):
            named.append(arg)
    if named:
        known = documents or rendered(ROOT / "deploy" / "k8s" / "base")
        names = {
            f"{str(d['kind']).lower()}/{d['metadata']['name']}"  # type: ignore[index]
            for d in known
        }
        for name in named:
            if name not in names:
                raise DocsError(f"{block.where}: kubectl: no {name} in the manifests")
        notes.append(f"{', '.join(named)} exist")
    return f"kubectl {kubectl_verb(args)}: " + (", ".join(notes) or "nothing to check offline")


def kubectl_verb(args: list[str]) -> str:
    """`apply`, `scale`… : the first word that is neither an option nor an option's value."""
    words = iter(args)
    for word in words:
        if word in ("-n", "--namespace", "--context"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def validate_make(args: list[str], block: Block) -> str:
    makefile = (ROOT / "Makefile").read_text()
    targets = [a for a in args if not re.fullmatch(r"\w+=.*", a)] or ["help"]
    for target in targets:
        if not re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE):
            raise DocsError(f"{block.where}: make {target}: no such target in the Makefile")
    return f"make {' '.join(targets)}: target exists"


# --- all documents ------------------------------------------------------------------------------


def documents() -> list[Path]:
    """README.md first, then every page under docs/ (operations.md last: it restarts the broker)."""
    pages = sorted((ROOT / "docs").rglob("*.md"), key=lambda p: (p.name == "operations.md", p))
    return [ROOT / "README.md", *pages]


def describe(report: DocumentReport) -> Iterator[str]:
    for outcome in report.outcomes:
        head = f"  {outcome.block.where:<28} {outcome.status:<10}"
        if outcome.status == "skipped":
            yield f"{head} {outcome.block.directives.skip}"
            if outcome.note:
                yield f"  {'':<28} {'':<10} validated: {outcome.note}"
        elif outcome.status == "awaited":
            yield f"{head} {outcome.note!r}"
        else:
            first = next(commands(outcome.block.text), "")
            yield f"{head} {outcome.seconds:5.1f}s  {first[:70]}"
    if report.failure:
        yield f"  FAILED {report.failure}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("docs", nargs="*", type=Path, help="default: README.md and docs/")
    parser.add_argument("--list", action="store_true", help="only list the blocks, run nothing")
    args = parser.parse_args()
    docs = [p.resolve() for p in args.docs] or documents()
    if args.list:
        for doc in docs:
            for block in blocks(doc):
                lint(block)
                if block.is_shell:
                    kind = f"skip: {block.directives.skip}" if block.directives.skip else "run"
                    print(f"{block.where:<28} {kind}")
        return 0
    for doc in docs:  # a bad directive fails before anything starts
        for block in blocks(doc):
            lint(block)
    check = CheckStack(ROOT / ".run" / "docs-check" / str(os.getpid()))
    failed = False
    try:
        check.start()
        print("substitutions: " + "; ".join(check.substitutions()))
        for doc in docs:
            report = run_document(doc, check)
            print(shown(doc))
            for line in describe(report):
                print(line)
            failed |= not report.ok
    finally:
        check.stop()
    if not failed:
        shutil.rmtree(check.directory, ignore_errors=True)
    else:
        print(f"kept {check.directory} (the shells' output logs are under shell/)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
