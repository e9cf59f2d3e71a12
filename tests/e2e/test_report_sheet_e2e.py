"""Over the real broker and the three services as processes: a park's 旬报 template, filled in
for 30 projects with two mistyped rows, imports 28 reports, names the 2 refused rows in Chinese,
and publishes one progress.reported event per accepted row, as single reports do."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.conftest import Broker, Stack
from tests.e2e.test_cli import sanpi
from tests.support.kafka import read_until
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PARK = "石佛"
PERIOD = "2023-03-X2"


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=60) as client:
        yield client


async def thirty_projects(http: httpx.AsyncClient, services: Stack) -> list[str]:
    ids = []
    for n in range(30):
        made = await http.post(
            f"{services.urls['registry']}/v1/projects",
            json={
                "name": f"旬报整表项目{n:02d}",
                "park": PARK,
                "total_investment": 100_000,
                "initial_stage": "UNDER_CONSTRUCTION",
                "planned_start_date": "2023-01-05",
            },
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids


def filled(template: bytes, ids: list[str]) -> tuple[bytes, list[str]]:
    """The template as an official fills it: the figures of each of `ids` (rows of projects other
    tests registered in the park are deleted), the 5th with 约3亿 as its cumulative investment, the
    18th with a year-to-date figure above its cumulative one. Returns the file and the projects in
    the order of its rows (the first on row 4)."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[3]]
    id_column = header.index("项目ID") + 1
    for number in range(sheet.max_row, 3, -1):
        if sheet.cell(number, id_column).value not in ids:
            sheet.delete_rows(number)
    order: list[str] = []
    for index, row in enumerate(sheet.iter_rows(min_row=4)):
        order.append(str(row[id_column - 1].value))
        row[header.index("累计完成投资(万元)")].value = 3_000 + index
        row[header.index("本年完成投资(万元)")].value = 2_000 + index
        row[header.index("形象进度(%)")].value = 35
        row[header.index("进展情况")].value = "主体施工"
        if index == 4:
            row[header.index("累计完成投资(万元)")].value = "约3亿"
        if index == 17:
            row[header.index("本年完成投资(万元)")].value = 9_999
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), order


async def test_a_sheet_of_30_projects_with_2_bad_rows_accepts_28_and_names_the_2(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker, tmp_path: Path
) -> None:
    ids = await thirty_projects(http, services)
    milestone = services.urls["milestone"]

    async def template() -> bytes:
        got = await http.get(
            f"{milestone}/v1/progress/template", params={"period": PERIOD, "park": PARK}
        )
        assert got.status_code == 200, got.text
        sheet = load_workbook(io.BytesIO(got.content)).worksheets[0]
        listed = {str(c.value) for c in next(sheet.iter_cols(min_row=4, max_col=1))}
        assert set(ids) <= listed, "not yet in the milestone's projection"
        return got.content

    listing = await eventually(
        template, timeout=60, interval=0.5, what="the template lists the 30 projects"
    )
    content, order = filled(listing, ids)
    assert sorted(order) == sorted(ids)
    operator = services.headers("operator", subject="op-石佛", parks=(PARK,))
    answer = await http.post(
        f"{milestone}/v1/progress/import",
        files={"file": ("石佛旬报.xlsx", content)},
        headers=operator,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["rows"], result["accepted"], result["refused"]) == (30, 28, 2)
    refused = [r for r in result["results"] if r["status"] == "refused"]
    assert [r["row"] for r in refused] == [8, 21]
    assert [r["project_id"] for r in refused] == [order[4], order[17]]
    assert [e["message"] for e in refused[0]["errors"]] == [
        '第 8 行「累计完成投资」：应为整数万元，收到 "约3亿"'
    ]
    assert refused[1]["errors"][0]["message"].startswith("第 21 行「本年完成投资」：")
    accepted = {r["project_id"] for r in result["results"] if r["status"] in ("accepted", "late")}
    assert accepted == set(ids) - {order[4], order[17]}

    def reported(records: list[Any]) -> set[str]:
        return {
            json.loads(r.value)["data"]["project_id"]
            for r in records
            if json.loads(r.value)["type"] == "sanpi.progress.reported.v1"
            and json.loads(r.value)["data"]["project_id"] in ids
        }

    records = await read_until(
        kafka_broker.bootstrap, "sanpi.milestones", lambda rs: reported(rs) >= accepted, timeout=60
    )
    assert reported(records) == accepted
    events = [
        json.loads(r.value)
        for r in records
        if json.loads(r.value)["type"] == "sanpi.progress.reported.v1"
        and json.loads(r.value)["data"]["project_id"] in ids
    ]
    assert len(events) == 28
    assert {e["data"]["reported_by"] for e in events} == {"op-石佛"}
    # The same sheet by the CLI: the 28 are duplicates now, the 2 refused rows told line by line.
    path = tmp_path / "石佛旬报.xlsx"
    path.write_bytes(content)
    again = sanpi(services, "progress", "import", str(path))
    assert again.returncode == 1, again.stderr
    assert '第 8 行「累计完成投资」：应为整数万元，收到 "约3亿"' in again.stdout
    assert "接收 0 行（其中迟报 0 行），重复 28 行，拒绝 2 行" in again.stderr
