"""The docs check itself: directives, what it refuses, how it runs blocks, its offline validators."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scripts.docs_check import (
    ROOT,
    Block,
    CheckStack,
    Directives,
    DocsError,
    Shell,
    blocks,
    documents,
    lint,
    parse_directives,
    validate_skipped,
)

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent


def write_doc(tmp_path: Path, text: str) -> list[Block]:
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    return blocks(doc)


def test_directives_attach_to_the_next_block_and_quotes_may_hold_semicolons(
    tmp_path: Path,
) -> None:
    found = write_doc(
        tmp_path,
        "# t\n\n"
        '<!-- docs-check: retry 30; expect "a; b"; expect "say \\"hi\\"" -->\n'
        "```bash\necho\n```\n\n"
        "<!-- docs-check: skip needs Docker; really -->\n\n"
        "```sh\ndocker compose ps\n```\n\n"
        "```text\nprose\n```\n",
    )
    assert [b.info for b in found] == ["bash", "sh", "text"]
    assert found[0].directives == Directives(retry_s=30, expect=("a; b", 'say "hi"'))
    assert found[1].directives.skip == "needs Docker; really"
    assert found[2].directives == Directives()
    assert [b.is_shell for b in found] == [True, True, False]


@pytest.mark.parametrize(
    ("comment", "complaint"),
    [
        ("skip", "needs a reason"),
        ("retry soon", "needs seconds"),
        ('await "x"', 'write `await "TEXT" SECONDS`'),
        ("expect x", 'write `expect "TEXT"`'),
        ("run-twice", "unknown docs-check directive"),
    ],
)
def test_a_bad_directive_is_refused(comment: str, complaint: str) -> None:
    with pytest.raises(DocsError, match=re.escape(complaint)):
        parse_directives(comment, "doc.md:1")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("```text\nsanpi projects list\n```\n", "looks like a command"),
        ("```\n$ make up\n```\n", "looks like a command"),
        ("```console\n$ ls\n```\n", "not ```console"),
        ("```bash\ncurl http://127.0.0.1:8080/\n```\n", "port 8080 is not one the check maps"),
        ('<!-- docs-check: expect "x" -->\n```text\nx\n```\n', "only apply to shell blocks"),
    ],
)
def test_what_a_reader_would_type_but_the_check_would_not_run_is_refused(
    tmp_path: Path, text: str, complaint: str
) -> None:
    (block,) = write_doc(tmp_path, text)
    with pytest.raises(DocsError, match=re.escape(complaint)):
        lint(block)


def test_prose_that_starts_with_a_command_word_is_not_a_command(tmp_path: Path) -> None:
    (block,) = write_doc(tmp_path, "```text\nsanpi is up (5.5s)\nmake sure it runs\n```\n")
    lint(block)


def test_commands_are_rewritten_to_the_checks_ports_and_directory() -> None:
    check = CheckStack(ROOT / ".run" / "docs-check" / "x", ports={8001: 41001, 9092: 41092})
    rewritten = check.rewrite(
        "curl http://127.0.0.1:8001/v1 --bootstrap 127.0.0.1:9092 -d '{\"total\": 180010}'"
        " && cat .run/admin.token $PWD/.run/jwt.secret && ls .run/kafka-libs .run/tools/bin"
    )
    assert rewritten == (
        "curl http://127.0.0.1:41001/v1 --bootstrap 127.0.0.1:41092 -d '{\"total\": 180010}'"
        " && cat .run/docs-check/x/admin.token $PWD/.run/docs-check/x/jwt.secret"
        " && ls .run/kafka-libs .run/tools/bin"
    )


def shell(tmp_path: Path) -> Shell:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANPI_")}
    return Shell(env, tmp_path / "shell")


def test_blocks_share_one_shell_and_a_failing_command_ends_the_document(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    try:
        sh.run(1, 'export GREETING=你好\nsay() { echo "$GREETING $1"; }', Directives())
        assert "你好 园区" in sh.run(2, "say 园区", Directives())
        with pytest.raises(DocsError, match="exit 1") as failed:
            sh.run(3, "echo before\nfalse\necho after", Directives())
        assert "before" in str(failed.value)
        assert "after" not in str(failed.value)
    finally:
        sh.close()


def test_what_a_failing_block_wrote_is_reported_though_read_before_the_shell_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait reads the log, then asks whether the shell ended: a shell that wrote its lines
    and ended between the two (a loaded machine) was reported without them (the suite saw
    "before" missing from the test above)."""
    sh = shell(tmp_path)
    read = Shell.output
    first = [True]

    def read_just_before_it_ended(self: Shell, start: int = 0) -> str:
        if first[0]:  # the read of an instant before the shell ran the block
            first[0] = False
            self.proc.wait(timeout=30)
            return ""
        return read(self, start)

    try:
        monkeypatch.setattr(Shell, "output", read_just_before_it_ended)
        with pytest.raises(DocsError, match="exit 1") as failed:
            sh.run(1, "echo before\nfalse", Directives())
        assert "before" in str(failed.value)
    finally:
        sh.close()


def test_an_unset_variable_and_a_failing_pipe_fail_too(tmp_path: Path) -> None:
    for number, text in enumerate(["echo $NOT_TOLD_TO_SET", "false | cat"], start=1):
        sh = shell(tmp_path / str(number))
        try:
            with pytest.raises(DocsError, match="failed"):
                sh.run(number, text, Directives())
        finally:
            sh.close()


def test_expect_needs_its_text_in_the_output(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    try:
        sh.run(1, "echo UNDER_CONSTRUCTION", Directives(expect=("UNDER_CONSTRUCTION",)))
        with pytest.raises(DocsError, match="output lacks 'SIGNED'"):
            sh.run(2, "echo UNDER_CONSTRUCTION", Directives(expect=("SIGNED",)))
    finally:
        sh.close()


def test_retry_runs_a_block_again_until_it_succeeds_and_gives_up_at_its_deadline(
    tmp_path: Path,
) -> None:
    counter = tmp_path / "attempts"
    counter.write_text("0")
    third_time = (
        f'n=$(( $(cat {counter}) + 1 )); echo $n > {counter}; echo "attempt $n"; [ "$n" -ge 3 ]'
    )
    sh = shell(tmp_path)
    try:
        assert "attempt 3" in sh.run(1, third_time, Directives(retry_s=30))
        # A retried block runs in a subshell: its failures never end the document's shell.
        assert "still here" in sh.run(2, "echo still here", Directives())
        with pytest.raises(DocsError, match="failed \\(exit 1\\) for 1s"):
            sh.run(3, "false", Directives(retry_s=1))
        with pytest.raises(DocsError, match="output lacks"):
            sh.run(4, "echo SIGNED", Directives(retry_s=1, expect=("UNDER_CONSTRUCTION",)))
    finally:
        sh.close()


def test_a_hanging_block_fails_at_its_timeout(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    try:
        with pytest.raises(DocsError, match="still running after 1s"):
            sh.run(1, "sleep 30", Directives(timeout_s=1))
    finally:
        sh.close()


def test_background_servers_are_awaited_and_stopped_with_the_document(tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    sh = shell(tmp_path)
    try:
        sh.run(
            1, f"echo $BASHPID > {pidfile}; echo listening; sleep 600", Directives(background=True)
        )
        sh.wait_for("listening", 10)
        with pytest.raises(DocsError, match="did not appear"):
            sh.wait_for("never printed", 0.5)
    finally:
        sh.close()
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_skipped_commands_are_validated_offline(tmp_path: Path) -> None:
    good, unknown_service, no_variable, no_target, no_deployment, no_file = write_doc(
        tmp_path,
        "<!-- docs-check: skip docker -->\n```bash\n"
        "export SANPI_JWT_SECRET=$(openssl rand -hex 32) SANPI_NOTIFICATION_SECRET_KEYS=k\n"
        "POSTGRES_PASSWORD=x GRAFANA_ADMIN_PASSWORD=y docker compose up -d\n"
        "docker compose logs registry grafana\n"
        "kubectl -n sanpi scale deployment/sanpi-registry --replicas 4\nmake up DB=postgres\n```\n"
        "<!-- docs-check: skip docker -->\n```bash\ndocker compose logs mysql\n```\n"
        "<!-- docs-check: skip docker -->\n```bash\ndocker compose up\n```\n"
        "<!-- docs-check: skip make -->\n```bash\nmake deploy\n```\n"
        "<!-- docs-check: skip k8s -->\n```bash\nkubectl rollout restart deployment/sanpi-web\n```\n"
        "<!-- docs-check: skip k8s -->\n```bash\nkubectl apply -f deploy/k8s/missing.yaml\n```\n",
    )
    note = validate_skipped(good, [])
    assert "docker compose up" in note
    assert "deployment/sanpi-registry exist" in note
    assert "make up: target exists" in note
    for block, complaint in [
        (unknown_service, "no service ['mysql']"),
        (
            no_variable,
            "needs ['GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'SANPI_JWT_SECRET', "
            "'SANPI_NOTIFICATION_SECRET_KEYS']",
        ),
        (no_target, "make deploy: no such target"),
        (no_deployment, "no deployment/sanpi-web in the manifests"),
        (no_file, "no such file"),
    ]:
        with pytest.raises(DocsError, match=re.escape(complaint)):
            validate_skipped(block, [])


def test_every_block_of_the_docs_passes_the_offline_checks() -> None:
    shell_blocks = 0
    for doc in documents():
        exported: list[str] = []
        for block in blocks(doc):
            lint(block)
            if block.is_shell and block.directives.skip:
                validate_skipped(block, exported)
            elif block.is_shell:
                shell_blocks += 1
                exported += re.findall(r"(?:^|\s)export\s+(\w+)=", block.text)
    # The tour, the API examples and the operations recipes: most blocks run, few are skipped.
    assert shell_blocks >= 60
