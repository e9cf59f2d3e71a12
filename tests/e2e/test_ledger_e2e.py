"""The ledger loop over the real stack (the services as processes, the real broker) and a real
office suite (headless LibreOffice): an export re-saved by LibreOffice imports with every row
unchanged, one edited amount is one update (one project.updated naming the field and who), and a
change made meanwhile is a conflict."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Broker, Stack
from tests.support import office
from tests.support.kafka import read_until

pytestmark = pytest.mark.e2e

MARK = "台账回环"  # in each project's name: the export is filtered to this test's projects


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=60) as client:
        yield client


async def test_export_libreoffice_edit_import_conflict(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker, tmp_path: Path
) -> None:
    registry = services.urls["registry"]
    ids = []
    for n, amount in enumerate((120_000, 80_000, 50_000)):
        made = await http.post(
            f"{registry}/v1/projects",
            json={"name": f"{MARK}项目{n}", "park": "枫杨", "total_investment": amount},
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    exported = await http.get(
        f"{registry}/v1/projects/export", params={"format": "xlsx", "q": MARK, "sort": "name"}
    )
    assert exported.status_code == 200, exported.text

    async def imported(content: bytes, name: str, dry_run: bool) -> httpx.Response:
        return await http.post(
            f"{registry}/v1/projects/import",
            params={"dry_run": str(dry_run).lower()},
            files={"file": (name, content)},
        )

    # Re-saved by LibreOffice as XLSX and as CSV: nothing changed.
    as_xlsx = office.resave(exported.content, "xlsx", office.XLSX, tmp_path / "lo")
    as_csv = office.resave(exported.content, "xlsx", office.CSV_UTF8, tmp_path / "lo")
    for content, name in ((as_xlsx, "台账.xlsx"), (as_csv, "台账.csv")):
        report = (await imported(content, name, dry_run=True)).json()
        assert [o["action"] for o in report["outcomes"]] == ["unchanged"] * 3, report

    # One amount edited in the CSV: one update, its event naming the field and who.
    lines = as_csv.decode("utf-8").splitlines(keepends=True)
    assert lines[3].count(",120000,") == 1
    lines[3] = lines[3].replace(",120000,", ",125000,")
    done = await imported("".join(lines).encode("utf-8"), "台账.csv", dry_run=False)
    assert done.status_code == 201, done.text
    assert (done.json()["updated"], done.json()["unchanged"]) == (1, 2)

    def updated(records: list[Any]) -> list[dict[str, Any]]:
        return [
            e
            for e in (json.loads(r.value) for r in records)
            if e["type"] == "sanpi.project.updated.v1" and e["subject"] in ids
        ]

    records = await read_until(
        kafka_broker.bootstrap, "sanpi.projects", lambda rs: bool(updated(rs)), timeout=60
    )
    (event,) = updated(records)
    assert event["subject"] == ids[0]
    assert event["data"]["changed"] == ["total_investment"]
    assert event["data"]["total_investment"] == 125_000
    assert event["data"]["updated_by"] == "e2e"

    # The first LibreOffice copy is now older than the first project: its row is a conflict.
    report = (await imported(as_xlsx, "台账.xlsx", dry_run=True)).json()
    assert [o["action"] for o in report["outcomes"]] == ["error", "unchanged", "unchanged"]
    assert report["outcomes"][0]["errors"][0]["code"] == "conflict"
    refused = await imported(as_xlsx, "台账.xlsx", dry_run=False)
    assert refused.status_code == 422
