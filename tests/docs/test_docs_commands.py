"""Every shell command of README.md and docs/, run in order against a real stack (make docs-check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.docs_check import ROOT, CheckStack, documents, run_document
from tests.docs.conftest import REPORTS

pytestmark = [
    pytest.mark.e2e,
    # The docs describe `make up`, which runs on SQLite; the stack of the check is that one
    # whatever SANPI_TEST_DB says, so the PostgreSQL pass of `make test` would repeat this run
    # to the letter. (The PostgreSQL commands of the docs run in this pass, on their own cluster.)
    pytest.mark.db_independent,
]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_of_the_document_works(doc: Path, docs_stack: CheckStack) -> None:
    report = run_document(doc, docs_stack)
    REPORTS.append(report)
    assert report.ok, report.failure
