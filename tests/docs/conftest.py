"""The docs check's stack (one per session, like `make up` on free ports) and its report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.docs_check import ROOT, CheckStack, DocumentReport, describe

REPORTS: list[DocumentReport] = []


@pytest.fixture(scope="session")
def docs_stack(run_dir: Path) -> Iterator[CheckStack]:
    check = CheckStack(run_dir / "docs-check")
    try:
        check.start()
        yield check
    finally:
        check.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Lists what the docs check ran, and what it skipped and why (make test prints it)."""
    if not REPORTS:
        return
    terminalreporter.section("docs check: the shell blocks of README.md and docs/")
    for report in REPORTS:
        ran = sum(1 for o in report.outcomes if o.status in ("ran", "background"))
        skipped = [o for o in report.outcomes if o.status == "skipped"]
        terminalreporter.write_line(
            f"{report.doc.relative_to(ROOT)}: {ran} ran, {len(skipped)} skipped"
            + (f", FAILED {report.failure.splitlines()[0]}" if report.failure else "")
        )
        for line in describe(DocumentReport(report.doc, skipped)):
            terminalreporter.write_line(line)
    terminalreporter.write_line("(every block with its timing: make docs-check)")
