"""The ledger through a real office suite (Debian's LibreOffice Calc, headless): what sanpi exports,
LibreOffice re-saves as XLSX or CSV (UTF-8 or GBK) and sanpi imports again with nothing changed;
one edit is one update; an edit made meanwhile is a conflict; a sheet LibreOffice wrote from
scratch imports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import office
from tests.support.registry import create, list_on, open_period, problem, registry_client

INJECTION = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        await open_period(client, 7, "2023-01-28")
        await open_period(client, 8, "2023-04-03")
        a = await create(client)
        await create(
            client,
            name="郑州机械研究所高端装备制造产业园",
            park="石佛",
            initial_stage="UNDER_CONSTRUCTION",
            started_date="2023-03-01",
            signed_date=None,
            national_project_code="2023-410171-36-03-099999",
            construction_content='厂房 7.41万㎡, "高端装备"；逗号,引号',
            chain_tag="NEW_MATERIALS",
            is_manufacturing=False,
        )
        await create(
            client,
            name=INJECTION,
            park="枫杨",
            enterprise=None,
            national_project_code=None,
            responsible_person="@所有人",
            category=None,
            chain_tag=None,
        )
        assert (await list_on(client, a["id"], 7, "SIGN")).status_code == 201
        assert (await list_on(client, a["id"], 8, "START")).status_code == 201
        yield client


async def export(client: httpx.AsyncClient, fmt: str) -> bytes:
    response = await client.get("/v1/projects/export", params={"format": fmt})
    assert response.status_code == 200, response.text
    return response.content


async def dry_run(client: httpx.AsyncClient, content: bytes, name: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/projects/import", params={"dry_run": "true"}, files={"file": (name, content)}
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.mark.parametrize(
    ("exported", "target", "suffix", "infilter"),
    [
        ("xlsx", office.XLSX, "xlsx", None),
        ("xlsx", office.CSV_UTF8, "csv", None),
        ("xlsx", office.CSV_GBK, "csv", None),
        ("csv", office.CSV_UTF8, "csv", "CSV:44,34,76,1"),
    ],
    ids=["xlsx-to-xlsx", "xlsx-to-csv-utf8", "xlsx-to-csv-gbk", "csv-to-csv"],
)
async def test_a_ledger_resaved_by_libreoffice_imports_with_nothing_changed(
    registry: httpx.AsyncClient,
    tmp_path: Path,
    exported: str,
    target: str,
    suffix: str,
    infilter: str | None,
) -> None:
    content = await export(registry, exported)
    resaved = office.resave(content, exported, target, tmp_path / "lo", infilter=infilter)
    if target == office.CSV_GBK:
        resaved.decode("gbk")  # really GBK, as Excel on a Chinese Windows writes it
        with pytest.raises(UnicodeDecodeError):
            resaved.decode("utf-8")
    report = await dry_run(registry, resaved, f"台账.{suffix}")
    assert [o["action"] for o in report["outcomes"]] == ["unchanged"] * 3, report["errors"]
    response = await registry.post(
        "/v1/projects/import", files={"file": (f"台账.{suffix}", resaved)}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["updated"], response.json()["created"]) == (0, 0)


async def test_one_amount_edited_after_libreoffice_is_one_update(
    registry: httpx.AsyncClient, tmp_path: Path
) -> None:
    csv_text = office.resave(
        await export(registry, "xlsx"), "xlsx", office.CSV_UTF8, tmp_path / "lo"
    ).decode("utf-8")
    lines = csv_text.splitlines(keepends=True)
    # A person changes one figure of the first project (row 4: title, notes, header above).
    assert lines[3].count(",120000,") == 1
    lines[3] = lines[3].replace(",120000,", ",125000,")
    edited = "".join(lines).encode("utf-8")
    report = await dry_run(registry, edited, "台账.csv")
    assert [o["action"] for o in report["outcomes"]] == ["update", "unchanged", "unchanged"]
    assert report["outcomes"][0]["changes"] == [
        {"field": "total_investment", "column": "总投资(万元)", "old": 120_000, "new": 125_000}
    ]


async def test_a_change_made_meanwhile_is_a_conflict_after_libreoffice(
    registry: httpx.AsyncClient, tmp_path: Path
) -> None:
    resaved = office.resave(await export(registry, "xlsx"), "xlsx", office.XLSX, tmp_path / "lo")
    first = (await registry.get("/v1/projects", params={"sort": "created_at"})).json()["items"][0]
    patched = await registry.patch(
        f"/v1/projects/{first['id']}",
        json={"total_investment": 121_000},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200
    report = await dry_run(registry, resaved, "台账.xlsx")
    assert [o["action"] for o in report["outcomes"]] == ["error", "unchanged", "unchanged"]
    assert report["outcomes"][0]["errors"][0]["code"] == "conflict"
    refused = await registry.post("/v1/projects/import", files={"file": ("台账.xlsx", resaved)})
    assert refused.status_code == 422
    assert problem(refused)["rows"][0]["code"] == "conflict"


# A sheet a person made in LibreOffice: a title, a blank row, the header, typed cells (a number, a
# date, text), written by LibreOffice as XLSX (from its flat XML format, as it stores any sheet).
FROM_SCRATCH = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:body><office:spreadsheet><table:table table:name="新签约">
<table:table-row><table:table-cell office:value-type="string"><text:p>2023年新签约项目台账（梧桐园区）</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell/></table:table-row>
<table:table-row>
{header}
</table:table-row>
{rows}
</table:table></office:spreadsheet></office:body></office:document>
"""


def _cell(value: Any) -> str:
    if isinstance(value, int):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    if isinstance(value, str) and value.startswith("date:"):
        day = value[5:]
        return f'<table:table-cell office:value-type="date" office:date-value="{day}"><text:p>{day}</text:p></table:table-cell>'
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


async def test_a_sheet_written_by_libreoffice_from_scratch_imports(
    registry: httpx.AsyncClient, tmp_path: Path
) -> None:
    header = ["项目名称", "所属园区", "总投资（万元）", "计划开工日期", "是否制造业", "签约期次"]
    rows = [
        ["新开普智慧教育研发产业基地", "梧桐", 80_000, "date:2023-09-01", "否", "第8期"],
        ["中软国际中原数字总部", "梧桐", 150_000, "date:2023-10-15", "否", "8"],
    ]
    document = FROM_SCRATCH.format(
        header="".join(_cell(h) for h in header),
        rows="".join(
            "<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>"
            for row in rows
        ),
    )
    work = tmp_path / "lo"
    work.mkdir()
    source = work / "新签约.fods"
    source.write_text(document, encoding="utf-8")
    xlsx = office.convert(source, office.XLSX, work / "out").read_bytes()
    response = await registry.post("/v1/projects/import", files={"file": ("新签约.xlsx", xlsx)})
    assert response.status_code == 201, response.text
    assert response.json()["header_row"] == 3
    assert response.json()["created"] == 2
    made = (await registry.get("/v1/projects", params={"park": "梧桐"})).json()["items"]
    assert [(p["total_investment"], p["planned_start_date"]) for p in made] == [
        (80_000, "2023-09-01"),
        (150_000, "2023-10-15"),
    ]
    listings = (await registry.get("/v1/listings", params={"period": 8})).json()["items"]
    assert {x["project_id"] for x in listings} >= {p["id"] for p in made}


pytestmark = pytest.mark.timeout(600)
