"""The 旬报 template of a period and a park: the park's reporting projects pre-filled, the figures
to fill with units, checks and a dropdown, the header frozen."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from sanpi.kit import OutboxMessage, Role
from tests.support.apps import auth
from tests.support.world import World, three_services
from tests.unit.test_bulletin import ADMIN, TODAY, seed
from tests.unit.test_hostile_sheets import dimension_bomb

# The three services run in this process: each needs a database of its own (on PostgreSQL).
pytestmark = pytest.mark.usefixtures("service_databases")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with three_services(tmp_path, today=TODAY) as world:
        yield world


async def test_the_template_lists_the_parks_projects_that_report(world: World) -> None:
    ids = await seed(world)
    response = await world.clients["milestone"].get(
        "/v1/progress/template",
        params={"period": "2023-03-X3", "park": "双桥"},
        headers=auth(Role.OPERATOR, parks=("双桥",)),
    )
    assert response.status_code == 200, response.text
    assert "sanpi-progress-2023-03-X3.xlsx" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.title == "旬报"
    assert str(sheet["A1"].value).startswith("双桥园区 2023年3月下旬旬报（2 个项目")
    assert sheet.freeze_panes == "A4"
    header = [c.value for c in sheet[3]]
    notes = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert header[:5] == ["项目ID", "项目名称", "园区", "填报期", "累计完成投资(万元)"]
    assert "万元" in notes["累计完成投资(万元)"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {ids["silent"], ids["unstarted"]}
    assert by_id[ids["silent"]][3] == "2023-03-X3"
    assert by_id[ids["silent"]][-1] == 500  # its last 旬报's cumulative figure
    assert by_id[ids["unstarted"]][-1] is None
    kinds = {str(v.sqref).split(":")[0][0]: v.type for v in sheet.data_validations.dataValidation}
    assert kinds["E"] == "whole"
    assert kinds["H"] == "decimal"
    assert kinds["K"] == "list"
    month = await world.clients["milestone"].get(
        "/v1/progress/template", params={"period": "2023-03", "park": "梧桐"}, headers=ADMIN
    )
    assert load_workbook(io.BytesIO(month.content)).worksheets[0].title == "月报"
    bad = await world.clients["milestone"].get(
        "/v1/progress/template", params={"period": "3月中旬", "park": "梧桐"}, headers=ADMIN
    )
    assert bad.status_code == 422
    assert isinstance(bad, httpx.Response)


async def thirty(world: World) -> list[str]:
    """30 projects of 梧桐 under construction since January, each with a 2023 plan."""
    ids = []
    for n in range(30):
        made = await world.clients["registry"].post(
            "/v1/projects",
            json={
                "name": f"梧桐项目{n:02d}",
                "park": "梧桐",
                "total_investment": 100_000,
                "initial_stage": "UNDER_CONSTRUCTION",
                "planned_start_date": "2023-01-05",
            },
            headers=ADMIN,
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    await world.pump()
    return ids


def filled(template: bytes, bad: dict[int, tuple[str, object]]) -> bytes:
    """The template with every project's figures filled in; `bad` (by data row index) puts a
    wrong value in one column, as a person mistypes it."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[3]]
    for index, row in enumerate(sheet.iter_rows(min_row=4)):
        row[header.index("累计完成投资(万元)")].value = 3_000 + index
        row[header.index("本年完成投资(万元)")].value = 2_000 + index
        row[header.index("形象进度(%)")].value = 35
        row[header.index("进展情况")].value = "主体施工"
        row[header.index("存在问题")].value = "用电报装待批；道路未通" if index == 0 else None
        if index in bad:
            column, value = bad[index]
            row[header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(world: World, content: bytes, **params: str) -> httpx.Response:
    return await world.clients["milestone"].post(
        "/v1/progress/import",
        params=params,
        files={"file": ("梧桐旬报.xlsx", content)},
        headers=auth(Role.OPERATOR, subject="op-梧桐", parks=("梧桐",)),
    )


async def test_a_sheet_of_30_projects_with_2_bad_rows_accepts_28_and_names_the_2(
    world: World,
) -> None:
    ids = await thirty(world)
    template = await world.clients["milestone"].get(
        "/v1/progress/template", params={"period": "2023-03-X2", "park": "梧桐"}, headers=ADMIN
    )
    content = filled(
        template.content,
        {4: ("累计完成投资(万元)", "约3亿"), 17: ("本年完成投资(万元)", 9_999)},
    )
    response = await upload(world, content)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["rows"], result["accepted"], result["refused"], result["header_row"]) == (
        30,
        28,
        2,
        3,
    )
    refused = [r for r in result["results"] if r["status"] == "refused"]
    assert [r["row"] for r in refused] == [8, 21]
    assert (
        refused[0]["errors"][0]["message"] == '第 8 行「累计完成投资」：应为整数万元，收到 "约3亿"'
    )
    assert refused[0]["errors"][0]["column"] == "累计完成投资(万元)"
    assert refused[1]["errors"][0]["code"] == "progress.ytd_above_cum"
    assert refused[1]["errors"][0]["message"].startswith("第 21 行")
    events = [
        e
        for e in await world_events(world, "sanpi.progress.reported.v1")
        if e["data"]["reported_by"] == "op-梧桐"
    ]
    assert len(events) == 28
    assert {e["subject"] for e in events} == set(ids) - {r["project_id"] for r in refused}
    first = next(r for r in result["results"] if r["row"] == 4)
    stored = (
        await world.clients["milestone"].get(
            f"/v1/projects/{first['project_id']}/progress", headers=ADMIN
        )
    ).json()["items"]
    assert [p["description"] for p in stored[0]["problems"]] == ["用电报装待批", "道路未通"]
    # The same sheet again: the 28 are duplicates of what is stored, nothing new is written.
    again = (await upload(world, content)).json()
    assert (again["duplicate"], again["refused"], again["accepted"]) == (28, 2, 0)


async def test_all_or_nothing_refuses_the_whole_sheet_for_one_bad_row(world: World) -> None:
    await thirty(world)
    template = await world.clients["milestone"].get(
        "/v1/progress/template", params={"period": "2023-03-X2", "park": "梧桐"}, headers=ADMIN
    )
    content = filled(template.content, {0: ("形象进度(%)", 130)})
    result = (await upload(world, content, all_or_nothing="true")).json()
    assert (result["accepted"], result["refused"]) == (0, 30)
    assert result["results"][0]["errors"][0]["message"].startswith("第 4 行「形象进度」：")
    # The good rows name the refused one by its row in the sheet (the batch would say 第 1 条).
    assert result["results"][1]["errors"][0]["message"] == (
        "第 5 行：整表未写入（all_or_nothing）：第 4 行被拒绝"
    )
    assert await world_events(world, "sanpi.progress.reported.v1") == []
    english = await world.clients["milestone"].post(
        "/v1/progress/import",
        files={"file": ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))},
        headers={**ADMIN, "Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert "Excel 97-2003 workbook (.xls)" in english.json()["detail"]


async def world_events(world: World, event_type: str) -> list[dict[str, Any]]:
    async with world.runtime("milestone").db.read() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [e for e in (json.loads(r.value) for r in rows) if e["type"] == event_type]


async def test_a_project_twice_in_a_sheet_is_refused_the_second_time_naming_the_first_row(
    world: World,
) -> None:
    ids = await thirty(world)
    template = await world.clients["milestone"].get(
        "/v1/progress/template", params={"period": "2023-03-X2", "park": "梧桐"}, headers=ADMIN
    )
    book = load_workbook(io.BytesIO(filled(template.content, {})))
    sheet = book.worksheets[0]
    sheet["A5"] = sheet["A4"].value  # a row copied down over the next project's
    out = io.BytesIO()
    book.save(out)
    result = (await upload(world, out.getvalue())).json()
    assert (result["accepted"], result["refused"]) == (29, 1)
    (twice,) = [r for r in result["results"] if r["status"] == "refused"]
    assert twice["row"] == 5
    assert (
        twice["errors"][0]["message"]
        == "第 5 行「填报期」：本表第 4 行已经填报了这个项目的 2023-03-X2"
    )
    assert twice["project_id"] in ids


async def test_a_5_kb_sheet_declaring_a_huge_range_is_a_422_in_chinese(world: World) -> None:
    """The 旬报 import reads through the same bounded reader as the ledger (its memory bound is
    measured in tests/unit/test_hostile_sheets.py)."""
    bomb = dimension_bomb()
    assert len(bomb) < 6_000
    response = await upload(world, bomb)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("工作表声明的范围是 A1:XFD4000")
