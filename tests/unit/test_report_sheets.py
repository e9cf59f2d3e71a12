"""The 旬报 template of a period and a park: the park's reporting projects pre-filled, the figures
to fill with units, checks and a dropdown, the header frozen."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.world import World, three_services
from tests.unit.test_bulletin import ADMIN, TODAY, seed


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
