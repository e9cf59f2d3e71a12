"""The ledger as an Excel working copy: export → edit → import updates what changed, refuses what
someone else changed meanwhile, and tolerates what people put around a table (titles, blanks);
templates with dropdowns; formula-safe cells; formats that are not XLSX or CSV named."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string

from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.registry import (
    create,
    list_on,
    open_period,
    outbox_events,
    problem,
    registry_client,
)

INJECTION = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        await open_period(client, 7, "2023-01-28")
        await open_period(client, 8, "2023-04-03")
        yield client


async def ledger(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    a = await create(client)
    b = await create(
        client,
        name="郑州机械研究所高端装备制造产业园",
        park="石佛",
        initial_stage="UNDER_CONSTRUCTION",
        started_date="2023-03-01",
        signed_date=None,
        national_project_code="2023-410171-36-03-099999",
        construction_content='厂房 7.41万㎡, "高端装备"\n第二行',
    )
    c = await create(
        client, name=INJECTION, park="枫杨", enterprise=None, national_project_code=None
    )
    assert (await list_on(client, a["id"], 7, "SIGN")).status_code == 201
    return [a, b, c]


async def export(client: httpx.AsyncClient, fmt: str = "xlsx", **params: str) -> bytes:
    response = await client.get("/v1/projects/export", params={"format": fmt, **params})
    assert response.status_code == 200, response.text
    return response.content


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    name: str = "台账.xlsx",
    *,
    dry_run: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/v1/projects/import",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, content)},
        headers=headers or {},
    )


def edit_xlsx(content: bytes, edits: dict[tuple[str, str], Any]) -> bytes:
    """The workbook with cells changed, found by (project name, header) — as a person edits."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[3]]
    for row in sheet.iter_rows(min_row=4):
        for (name, column), value in edits.items():
            if row[header.index("项目名称")].value == name:
                row[header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_export_imported_again_changes_nothing(registry: httpx.AsyncClient) -> None:
    await ledger(registry)
    before = len(await outbox_events(registry))
    for fmt in ("xlsx", "csv"):
        content = await export(registry, fmt)
        report = (await upload(registry, content, f"台账.{fmt}", dry_run=True)).json()
        assert [o["action"] for o in report["outcomes"]] == ["unchanged"] * 3, report
        real = await upload(registry, content, f"台账.{fmt}")
        assert real.status_code == 201, real.text
        assert (real.json()["updated"], real.json()["created"]) == (0, 0)
    assert len(await outbox_events(registry)) == before


async def test_one_edited_amount_is_one_update_with_its_field(
    registry: httpx.AsyncClient,
) -> None:
    a, _, _ = await ledger(registry)
    content = edit_xlsx(await export(registry), {(a["name"], "总投资(万元)"): 130_000})
    report = (await upload(registry, content, dry_run=True)).json()
    assert [o["action"] for o in report["outcomes"]] == ["update", "unchanged", "unchanged"]
    assert report["outcomes"][0]["changes"] == [
        {"field": "total_investment", "column": "总投资(万元)", "old": 120_000, "new": 130_000}
    ]
    response = await upload(registry, content, headers=auth(Role.ADMIN, subject="张科长"))
    assert response.status_code == 201, response.text
    assert response.json()["project_ids"] == [a["id"]]
    [updated] = await outbox_events(registry, "project.updated")
    assert (updated["data"]["changed"], updated["data"]["updated_by"]) == (
        ["total_investment"],
        "张科长",
    )
    project = (await registry.get(f"/v1/projects/{a['id']}")).json()
    assert (project["total_investment"], project["version"]) == (130_000, 2)


async def test_a_row_changed_by_someone_else_since_the_export_is_a_conflict(
    registry: httpx.AsyncClient,
) -> None:
    a, b, _ = await ledger(registry)
    content = edit_xlsx(await export(registry), {(b["name"], "责任人"): "赵六"})
    patched = await registry.patch(
        f"/v1/projects/{a['id']}", json={"responsible_person": "钱七"}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    report = (await upload(registry, content, dry_run=True)).json()
    assert [o["action"] for o in report["outcomes"]] == ["error", "update", "unchanged"]
    [conflict] = report["outcomes"][0]["errors"]
    assert conflict["code"] == "conflict"
    assert conflict["message"] == (
        "第 4 行「版本」：导出后该项目已被修改（表中版本 1，当前版本 2）：请重新导出后再改"
    )
    refused = await upload(registry, content)
    assert refused.status_code == 422
    assert [r["row"] for r in problem(refused)["rows"]] == [4]
    assert (await registry.get(f"/v1/projects/{b['id']}")).json()["responsible_person"] == "王强"


async def test_rows_find_their_project_by_code_under_titles_and_blank_rows(
    registry: httpx.AsyncClient,
) -> None:
    _, b, _ = await ledger(registry)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["郑州高新区 2023 年项目台账"])
    sheet.append(["填表单位：石佛园区运营中心", None, "单位：万元"])
    sheet.append([])
    sheet.append(["National_Project_Code", "Name", "Park", "Total_Investment"])
    sheet.append([None, None, None, None])
    sheet.append([b["national_project_code"], b["name"], "石佛", 150_000])
    sheet.append([])
    sheet.append([None, "新项目", "梧桐", 5_000])
    out = io.BytesIO()
    book.save(out)
    report = (await upload(registry, out.getvalue(), dry_run=True)).json()
    assert report["header_row"] == 4
    assert [(o["row"], o["action"]) for o in report["outcomes"]] == [(6, "update"), (8, "create")]
    assert report["outcomes"][0]["changes"][0]["field"] == "total_investment"


async def test_what_an_import_cannot_change_is_named(registry: httpx.AsyncClient) -> None:
    a, b, c = await ledger(registry)
    content = edit_xlsx(
        await export(registry),
        {
            (a["name"], "签约期次"): 8,  # already on period 7's list
            (b["name"], "初始阶段"): "签约",
            (c["name"], "签约期次"): "第8期",  # a new listing: fine
        },
    )
    report = (await upload(registry, content, dry_run=True)).json()
    assert [o["action"] for o in report["outcomes"]] == ["error", "error", "update"]
    assert report["outcomes"][0]["errors"][0]["reason"].startswith("已在第 7 期签约清单上")
    assert report["outcomes"][1]["errors"][0]["column"] == "初始阶段"
    assert report["outcomes"][2]["changes"] == [
        {"field": "sign_period", "column": "签约期次", "old": None, "new": 8}
    ]


async def test_an_operator_updates_only_own_parks_but_may_reimport_the_rest_unchanged(
    registry: httpx.AsyncClient,
) -> None:
    a, b, _ = await ledger(registry)
    content = edit_xlsx(
        await export(registry),
        {(a["name"], "责任人"): "赵六", (b["name"], "责任人"): "钱七"},
    )
    report = (
        await upload(registry, content, dry_run=True, headers=auth(Role.OPERATOR, parks=("石佛",)))
    ).json()
    assert [o["action"] for o in report["outcomes"]] == ["error", "update", "unchanged"]
    assert (
        report["outcomes"][0]["errors"][0]["reason"]
        == "无权修改园区「双桥」的数据（可修改的园区：石佛）"
    )


async def test_a_new_listing_by_import_emits_project_listed(registry: httpx.AsyncClient) -> None:
    _, _, c = await ledger(registry)
    content = edit_xlsx(await export(registry), {(c["name"], "签约期次"): 8})
    assert (await upload(registry, content)).status_code == 201
    listed = await outbox_events(registry, "project.listed")
    assert [(e["subject"], e["data"]["period"]) for e in listed][-1] == (c["id"], 8)
    assert await outbox_events(registry, "project.updated") == []


# --- formula safety ---------------------------------------------------------------------------------


async def test_no_exported_cell_is_a_formula(registry: httpx.AsyncClient) -> None:
    await ledger(registry)
    await create(registry, name="-1+2 号地块", park="梧桐", responsible_person="@所有人")
    xlsx = await export(registry)
    sheet_xml = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    book = load_workbook(io.BytesIO(xlsx))
    names = [r[2].value for r in book.worksheets[0].iter_rows(min_row=4)]
    assert INJECTION in names
    cell = next(r[2] for r in book.worksheets[0].iter_rows(min_row=4) if r[2].value == INJECTION)
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
    text = (await export(registry, "csv")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    risky = [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []
    assert "'" + INJECTION in [r[2] for r in rows]
    assert "'@所有人" in [c for r in rows for c in r]
    # …and the quote is the export's, not the data's: the CSV reads back unchanged.
    report = (await upload(registry, text.encode("utf-8-sig"), "台账.csv", dry_run=True)).json()
    assert {o["action"] for o in report["outcomes"]} == {"unchanged"}


# --- templates ---------------------------------------------------------------------------------------


async def test_the_template_has_notes_dropdowns_and_a_frozen_header(
    registry: httpx.AsyncClient,
) -> None:
    response = await registry.get("/v1/projects/template")
    assert response.status_code == 200
    assert "sanpi-projects-template.xlsx" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet, lists = book.worksheets
    assert (sheet.title, lists.sheet_state) == ("项目台账", "hidden")
    assert sheet.freeze_panes == "A4"
    header = [c.value for c in sheet[3]]
    notes = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert header[:4] == ["项目ID", "版本", "项目名称", "所属园区"]
    assert "万元" in notes["总投资(万元)"]
    assert notes["计划开工日期"] == "日期，如 2023-03-01"
    dropdowns = {}
    for rule in sheet.data_validations.dataValidation:
        letters = str(rule.sqref).split(":")[0].rstrip("0123456789")
        dropdowns[header[column_index_from_string(letters) - 1]] = rule
    assert dropdowns["所属园区"].type == "list"
    values = {c[0].value: [c2.value for c2 in c if c2.value] for c in lists.iter_cols()}
    assert values["所属园区"] == ["所属园区", "梧桐", "双桥", "石佛", "枫杨"]
    assert values["是否制造业"][1:] == ["是", "否"]
    assert values["初始阶段"][1:] == ["签约", "在建"]
    assert "物联网" in values["产业链"]
    assert "先进制造业" in values["项目类别"]
    assert dropdowns["总投资(万元)"].type == "whole"
    width = sheet.column_dimensions
    assert width["C"].width >= 10
    assert width["A"].width >= 8
    # Filled in as a person would, the template imports.
    sheet.append([None, None, "新开普智慧教育研发产业基地", "梧桐"] + [None] * 8 + [80_000])
    out = io.BytesIO()
    book.save(out)
    imported = await upload(registry, out.getvalue())
    assert imported.status_code == 201, imported.text
    assert imported.json()["created"] == 1


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        (
            "台账.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "Excel 97-2003 工作簿（.xls）",
        ),
        (
            "台账.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
            "加密",
        ),
        ("台账.ods", b"whatever", "OpenDocument 电子表格（.ods）"),
    ],
)
async def test_formats_that_are_not_xlsx_or_csv_are_named(
    registry: httpx.AsyncClient, name: str, content: bytes, named: str
) -> None:
    response = await upload(registry, content, name, dry_run=True)
    assert response.status_code == 422
    assert named in problem(response)["detail"]
    assert problem(response)["errors"][0]["field"] == "file"


async def test_a_macro_workbook_is_named(registry: httpx.AsyncClient) -> None:
    plain = await registry.get("/v1/projects/template")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr("xl/vbaProject.bin", b"macro")
    response = await upload(registry, out.getvalue(), "台账.xlsm", dry_run=True)
    assert response.status_code == 422
    assert "含宏的工作簿（.xlsm）" in problem(response)["detail"]
    english = await upload(
        registry, out.getvalue(), "台账.xlsm", dry_run=True, headers={"Accept-Language": "en"}
    )
    assert "a macro-enabled workbook (.xlsm)" in problem(english)["detail"]
