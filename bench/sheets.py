"""The Excel-first bulk paths at province size (issue 25: each ≤ 60 s on SQLite): 20,000 ledger rows
imported by the registry, exported and re-imported with one row in ten edited, and a 20,000-row
旬报 sheet imported by the milestone service.

Each service runs in-process (its real app and lifespan, migrations included, Kafka off) behind an
httpx ASGITransport, as in the scale bench: the figures are the route's own time (reading the
sheet, checking every row, writing the rows and their outbox events), without a network hop.
1. ledger: one CSV of the province's projects with their listings (as `sanpi demo province` sends
   it, but as one sheet) creates them; the XLSX export is re-imported with every tenth amount
   changed: 2,000 updates and 18,000 unchanged rows.
2. 旬报: the milestone's tracked projects are seeded directly (as the scale bench does), then one
   XLSX in the template's layout, a row per project with its figures for one 旬, is imported.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import insert

from bench.common import BenchResult, heap_frozen
from bench.scale import SEED_CHUNK, Seeder, chunked, in_process, runtime_of, table
from sanpi.client.demo.generator import DemoDataset, province, province_parks
from sanpi.client.demo.loader import province_sheet
from sanpi.events import ReportPeriodKind
from sanpi.events.xun import last_completed
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.report_sheets.columns import COLUMNS, fields
from sanpi.milestone.settings import MilestoneSettings
from sanpi.office import templates
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings

FULL_ROWS = 20_000
SMOKE_ROWS = 300
TARGET = "target ≤ 60 s (SQLite)"


async def run(
    *, run_dir: Path, new_database: Callable[[str], str], smoke: bool, projects: int | None
) -> BenchResult:
    rows = projects or (SMOKE_ROWS if smoke else FULL_ROWS)
    data = province(rows)
    result = BenchResult("sheets")
    result.details["rows"] = rows
    await ledger_part(result, data, run_dir, new_database("sheets_registry"))
    await report_part(result, data, run_dir, new_database("sheets_milestone"))
    return result


async def ledger_part(result: BenchResult, data: DemoDataset, run_dir: Path, url: str) -> None:
    settings = RegistrySettings(
        data_dir=run_dir / "sheets",
        database_url=url,
        kafka_enabled=False,
        parks=province_parks(),
    )
    app = registry_app(settings)
    n = len(data.projects)
    async with in_process(app) as client:
        for period in data.periods:
            response = await client.post(
                "/v1/periods",
                json={"number": period.number, "event_date": period.event_date.isoformat()},
            )
            response.raise_for_status()
        sheet = province_sheet(data, data.projects)
        with heap_frozen():
            started = time.perf_counter()
            response = await client.post("/v1/projects/import", files={"file": ("台账.csv", sheet)})
            created_s = time.perf_counter() - started
        report = response.json()
        if response.status_code != 201 or report["created"] != n:
            raise RuntimeError(f"ledger import: {response.status_code} {response.text[:500]}")
        print(f"  ledger: {n} rows created in {created_s:.1f}s", flush=True)
        result.add("ledger import (create)", created_s, "s", f"{n} rows, CSV; {TARGET}")

        started = time.perf_counter()
        response = await client.get("/v1/projects/export", params={"format": "xlsx"})
        response.raise_for_status()
        result.add("ledger export", time.perf_counter() - started, "s", f"{n} rows, XLSX")
        edited, changed = edit_amounts(response.content, every=10)

        with heap_frozen():
            started = time.perf_counter()
            response = await client.post(
                "/v1/projects/import", files={"file": ("台账.xlsx", edited)}
            )
            again_s = time.perf_counter() - started
        report = response.json()
        if response.status_code not in (200, 201) or (
            report["updated"],
            report["unchanged"],
        ) != (changed, n - changed):
            raise RuntimeError(f"ledger re-import: {response.status_code} {response.text[:800]}")
        print(f"  ledger: {n} rows re-imported ({changed} updates) in {again_s:.1f}s", flush=True)
        result.add(
            "ledger re-import (update)",
            again_s,
            "s",
            f"{n} rows, XLSX export with {changed} amounts edited; {TARGET}",
        )


def edit_amounts(exported: bytes, *, every: int) -> tuple[bytes, int]:
    """The export with 总投资 raised by 1 万元 in every `every`-th row, as someone edits it."""
    book = load_workbook(io.BytesIO(exported))
    sheet = book.worksheets[0]
    header_row = next(r for r in range(1, 10) if any(c.value == "总投资(万元)" for c in sheet[r]))
    column = next(c.column for c in sheet[header_row] if c.value == "总投资(万元)")
    changed = 0
    for number in range(header_row + 1, sheet.max_row + 1, every):
        cell = sheet.cell(number, column)
        if isinstance(cell.value, int | float):
            cell.value = int(cell.value) + 1
            changed += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), changed


async def report_part(result: BenchResult, data: DemoDataset, run_dir: Path, url: str) -> None:
    settings = MilestoneSettings(
        data_dir=run_dir / "sheets-milestone", database_url=url, kafka_enabled=False
    )
    app = milestone_app(settings)
    seeder = Seeder(data, months=0)
    async with in_process(app) as client:
        async with runtime_of(app).db.engine.begin() as conn:
            for chunk in chunked(seeder.projects(), SEED_CHUNK):
                await conn.execute(insert(table("tracked_project")), chunk)
        period = last_completed(data.as_of, ReportPeriodKind.XUN)
        rows = []
        for index, p in enumerate(data.projects):
            values = {
                "project_id": data.project_id(p.key),
                "name": p.body["name"],
                "park": p.body["park"],
                "period_key": period.key,
                "completed_investment_cum": 1_000 + index % 500,
                "completed_investment_ytd": 500 + index % 300,
                "physical_progress_pct": 40,
                "narrative": "主体施工",
            }
            rows.append([values.get(c.key) for c in COLUMNS])
        sheet = templates.workbook(sheet="旬报", title="全省旬报", fields=fields(), rows=rows)
        n = len(rows)
        with heap_frozen():
            started = time.perf_counter()
            response = await client.post(
                "/v1/progress/import", files={"file": ("旬报.xlsx", sheet)}
            )
            took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"旬报 import: {response.status_code} {response.text[:500]}")
        answer = response.json()
        if answer["rows"] != n or answer["accepted"] == 0:
            raise RuntimeError(f"旬报 import read {answer['rows']} rows: {answer['results'][:3]}")
        refused: dict[str, int] = {}
        for r in answer["results"]:
            for e in r["errors"]:
                refused[e["code"]] = refused.get(e["code"], 0) + 1
        print(
            f"  旬报: {n} rows in {took:.1f}s: {answer['accepted']} accepted "
            f"({answer['late']} late), {answer['refused']} refused {refused}",
            flush=True,
        )
        result.add(
            "旬报 sheet import",
            took,
            "s",
            f"{n} rows ({answer['accepted']} accepted, {answer['late']} of them late; "
            f"{answer['refused']} refused), XLSX; {TARGET}",
        )
        result.details["report_sheet_refused"] = refused
