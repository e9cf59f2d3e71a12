"""Sheet import (every error class, dry run, all-or-nothing) and export (CSV/XLSX round trip)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from sanpi.kit import CAMPAIGN_TZ, Role
from tests.support.apps import auth
from tests.support.registry import (
    FULL_PROJECT,
    create,
    fields_of,
    list_on,
    open_period,
    outbox_events,
    problem,
    registry_client,
    stage_changed,
)

HEADER = [
    "项目名称",
    "所属园区",
    "总投资（万元）",
    "签约额(万元)",
    "产业链",
    "是否制造业",
    "计划开工日期",
    "签约期次",
]
GOOD_ROWS = [
    ["雄韬氢能产业园", "梧桐", "500000", "480000", "氢能与储能", "是", "2023-06-01", "第7期"],
    ["京东方艺云区域总部", "双桥", "150,000", "", "ELECTRONIC_INFORMATION", "否", "2023/7/1", "7"],
]


def csv_bytes(rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        await open_period(client, 7, "2023-01-28")
        await open_period(client, 8, "2023-04-03")
        yield client


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    *,
    name: str = "台账.csv",
    dry_run: bool = False,
    headers: dict[str, str] | None = None,
    lang: str = "en",
) -> httpx.Response:
    """The messages are Chinese by default; these tests read them in English unless they ask."""
    return await client.post(
        "/v1/projects/import",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, content)},
        headers={"Accept-Language": lang, **(headers or {})},
    )


async def count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/v1/projects", params={"limit": 500})).json()["items"])


async def test_a_good_csv_creates_projects_listings_and_events(registry: httpx.AsyncClient) -> None:
    response = await upload(registry, csv_bytes(GOOD_ROWS))
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["valid_rows"], report["created"]) == (2, 2, 2)
    projects = (await registry.get("/v1/projects")).json()["items"]
    assert [p["chain_tag"] for p in projects] == ["HYDROGEN_STORAGE", "ELECTRONIC_INFORMATION"]
    assert [p["total_investment"] for p in projects] == [500_000, 150_000]
    assert [p["id"] for p in projects] == report["project_ids"]
    assert len(await outbox_events(registry, "project.registered")) == 2
    listed = await outbox_events(registry, "project.listed")
    assert [(e["data"]["period"], e["data"]["batch"]) for e in listed] == [(7, "SIGN"), (7, "SIGN")]


async def test_an_imported_direct_start_sends_the_day_the_registry_counts(
    registry: httpx.AsyncClient,
) -> None:
    # The import registers through the same add_registered: no start day declared, the event
    # names the day of registration (Shanghai), as the indicators count it.
    header = ["项目名称", "所属园区", "总投资（万元）", "计划开工日期", "初始阶段"]
    response = await upload(registry, csv_bytes([["艾派克封测", "石佛", "80000", "2023-03-01", "在建"]], header))  # fmt: skip
    assert response.status_code == 201, response.text
    [project_id] = response.json()["project_ids"]
    created = (await registry.get(f"/v1/projects/{project_id}")).json()["created_at"]
    day = dt.datetime.fromisoformat(created).astimezone(CAMPAIGN_TZ).date().isoformat()
    [event] = await outbox_events(registry, "project.registered")
    assert (event["data"]["stage"], event["data"]["started_date"]) == ("UNDER_CONSTRUCTION", day)


async def test_xlsx_with_english_headers_and_excel_types(registry: httpx.AsyncClient) -> None:
    header = [
        "Name",
        "Park",
        "Total_Investment",
        "is_manufacturing",
        "planned_start_date",
        "initial_stage",
    ]
    excel_day = dt.datetime(2023, 5, 1)  # noqa: DTZ001 - Excel cells hold naive datetimes
    rows = [["艾派克封测", "石佛", 80000, True, excel_day, "在建"]]
    response = await upload(registry, xlsx_bytes(rows, header), name="ledger.xlsx")
    assert response.status_code == 201, response.text
    [project] = (await registry.get("/v1/projects")).json()["items"]
    assert (project["planned_start_date"], project["stage"], project["is_manufacturing"]) == (
        "2023-05-01",
        "UNDER_CONSTRUCTION",
        True,
    )


async def test_a_gbk_csv_from_chinese_excel_reads(registry: httpx.AsyncClient) -> None:
    response = await upload(registry, csv_bytes(GOOD_ROWS, encoding="gbk"))
    assert response.status_code == 201, response.text
    assert await count(registry) == 2


BAD_ROWS = [
    GOOD_ROWS[0],  # row 2 is fine
    ["", "梧桐", "1000", "", "", "", "", ""],  # 3: name missing
    ["项目C", "火星", "1000", "", "", "", "", ""],  # 4: unknown park
    ["项目D", "梧桐", "12.5", "", "", "", "", ""],  # 5: not whole 万元
    ["项目E", "梧桐", "-3", "", "", "", "", ""],  # 6: negative
    ["项目F", "梧桐", "1000", "2000", "", "", "", ""],  # 7: contract above total
    ["项目G", "梧桐", "1000", "", "区块链", "", "", ""],  # 8: unknown chain tag
    ["项目H", "梧桐", "1000", "", "", "也许", "", ""],  # 9: not 是/否
    ["项目I", "梧桐", "1000", "", "", "", "明天", ""],  # 10: not a date
    ["项目J", "梧桐", "1000", "", "", "", "", "第99期"],  # 11: unknown period
    ["项目K", "梧桐", "1000", "", "", "", "", "seven"],  # 12: not a period
    ["项目L", "梧桐", "999999999999", "", "", "", "", ""],  # 13: absurd amount
]


async def test_dry_run_reports_every_bad_row_and_writes_nothing(
    registry: httpx.AsyncClient,
) -> None:
    response = await upload(registry, csv_bytes(BAD_ROWS), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dry_run"], report["rows"], report["valid_rows"], report["created"]) == (
        True,
        12,
        1,
        1,
    )
    by_row = {(e["row"], e["column"]): e["reason"] for e in report["errors"]}
    assert by_row[(3, "项目名称")] == "required"
    assert by_row[(4, "所属园区")] == "unknown park; one of 梧桐, 双桥, 石佛, 枫杨"
    assert by_row[(5, "总投资（万元）")] == "'12.5' is not a whole number of 10k yuan"
    assert "greater than 0" in by_row[(6, "总投资（万元）")]
    assert by_row[(7, "签约额(万元)")] == (
        "contract amount 2000 is above the total investment of 1000 (10k yuan)"
    )
    assert by_row[(8, "产业链")].startswith("'区块链' is not one of 物联网 (IOT)")
    assert by_row[(9, "是否制造业")] == "'也许' is not 是 or 否"
    assert by_row[(10, "计划开工日期")].startswith("'明天' is not a date")
    assert by_row[(11, "签约期次")] == "period 99 does not exist; create it first"
    assert by_row[(12, "签约期次")] == "'seven' is not a period number (7, 第7期)"
    assert "less than or equal to 100000000" in by_row[(13, "总投资（万元）")]
    assert sorted({row for row, _ in by_row}) == list(range(3, 14))
    assert await count(registry) == 0
    assert await outbox_events(registry, "project.registered") == []


async def test_a_real_run_with_one_bad_row_imports_nothing(registry: httpx.AsyncClient) -> None:
    response = await upload(registry, csv_bytes([*GOOD_ROWS, BAD_ROWS[2]]))
    assert response.status_code == 422
    body = problem(response)
    assert body["detail"] == "1 of 3 rows have problems; nothing was imported"
    assert body["errors"] == [
        {"field": "row 4: 所属园区", "reason": "unknown park; one of 梧桐, 双桥, 石佛, 枫杨"}
    ]
    assert body["rows"] == [
        {
            "row": 4,
            "column": "所属园区",
            "reason": "unknown park; one of 梧桐, 双桥, 石佛, 枫杨",
            "message": "Row 4 park: unknown park; one of 梧桐, 双桥, 石佛, 枫杨",
            "code": "",
        }
    ]
    assert await count(registry) == 0
    assert await outbox_events(registry, "project.listed") == []


async def test_messages_are_chinese_by_default(registry: httpx.AsyncClient) -> None:
    rows = [["坏行", "梧桐", "约3亿", "", "", "", "", ""], BAD_ROWS[2]]
    response = await upload(registry, csv_bytes(rows), lang="zh-CN,zh;q=0.9,en;q=0.8")
    assert response.status_code == 422
    body = problem(response)
    assert body["detail"] == "2 行中有 2 行有问题，整个文件都没有导入"
    assert [r["message"] for r in body["rows"]] == [
        '第 2 行「总投资」：应为整数万元，收到 "约3亿"',
        '第 3 行「所属园区」：没有园区 "火星"：应为 梧桐、双桥、石佛、枫杨 之一',
    ]
    english = problem(await upload(registry, csv_bytes(rows), lang="en-US,en;q=0.9"))
    assert (
        english["rows"][0]["message"]
        == "Row 2 total_investment: '约3亿' is not a whole number of 10k yuan"
    )


async def test_a_broken_rule_reads_wholly_in_the_readers_language(
    registry: httpx.AsyncClient,
) -> None:
    header = ["项目名称", "所属园区", "总投资（万元）", "签约额(万元)", "签约日期", "计划开工日期"]
    rows = [["倒序", "梧桐", "1000", "2000", "2023-06-02", "2023-06-01"]]
    chinese = problem(await upload(registry, csv_bytes(rows, header), lang="zh-CN"))
    assert [r["message"] for r in chinese["rows"]] == [
        "第 2 行「签约额」：签约额 2000 万元大于总投资 1000 万元",
        "第 2 行「计划开工日期」：不能早于签约日期（2023-06-02）",
    ]
    english = problem(await upload(registry, csv_bytes(rows, header), lang="en"))
    assert [r["reason"] for r in english["rows"]] == [
        "contract amount 2000 is above the total investment of 1000 (10k yuan)",
        "must not be before signed_date (2023-06-02)",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["项目名称", "所属园区", "总投资(万元)", "颜色"], [(1, "颜色", "unknown column")]),
        (
            ["项目名称", "所属园区", "总投资(万元)", "总投资"],
            [(1, "总投资", "duplicate column: 总投资(万元) is the same")],
        ),
        (["项目名称", "所属园区"], [(1, "总投资(万元)", "missing column (total_investment)")]),
        (["项目名称", "", "所属园区", "总投资(万元)"], [(1, "#2", "empty header")]),
    ],
)
async def test_header_problems(
    registry: httpx.AsyncClient, header: list[str], expected: list[tuple[int, str, str]]
) -> None:
    rows = [["项目", "梧桐", "1000", "1000"][: len(header)]]
    report = (await upload(registry, csv_bytes(rows, header), dry_run=True)).json()
    assert [(e["row"], e["column"], e["reason"]) for e in report["errors"]] == expected


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "a.csv", "the file is empty: no header row"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "the file is not an XLSX workbook (BadZipFile)"),
        (b"\x00\x01\x02binary", "a.csv", "the file is not a CSV text file (it holds NUL bytes)"),
    ],
)
async def test_unreadable_files_are_named(
    registry: httpx.AsyncClient, content: bytes, name: str, reason: str
) -> None:
    response = await upload(registry, content, name=name, dry_run=True)
    assert response.status_code == 422
    assert problem(response)["errors"] == [{"field": "file", "reason": reason}]


async def test_too_many_rows(tmp_path: Path) -> None:
    async with registry_client(tmp_path, import_max_rows=3) as client:
        rows = [[f"项目{i}", "梧桐", "1000", "", "", "", "", ""] for i in range(4)]
        response = await upload(client, csv_bytes(rows), dry_run=True)
        assert fields_of(response) == ["file"]


async def test_listing_rules_apply_in_a_row(registry: httpx.AsyncClient) -> None:
    header = [
        "项目名称",
        "所属园区",
        "总投资(万元)",
        "初始阶段",
        "签约期次",
        "开工期次",
        "投产期次",
    ]
    rows = [
        [
            "签约后开工再投产",
            "梧桐",
            "1000",
            "签约",
            "7",
            "7",
            "8",
        ],  # fine: 7 SIGN, 7 START, 8 PRODUCE
        ["未开工就投产", "梧桐", "1000", "签约", "7", "", "8"],
        ["开工早于签约", "梧桐", "1000", "签约", "8", "7", ""],
        ["直接开工后投产", "梧桐", "1000", "在建", "", "", "8"],  # started: may be produced
    ]
    report = (await upload(registry, csv_bytes(rows, header), dry_run=True)).json()
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "投产期次"), (4, "开工期次")]
    assert "earlier START listing" in report["errors"][0]["reason"]


async def test_ids_in_the_sheet(registry: httpx.AsyncClient) -> None:
    existing = await create(registry)
    header = ["项目ID", "项目名称", "所属园区", "总投资(万元)"]
    fresh = "6f1c1d58-3a53-4f7c-9d1e-2f0f7b3c1a10"
    rows = [
        [existing["id"], "再导一次", "梧桐", "1000"],
        ["not-a-uuid", "乱码", "梧桐", "1000"],
        [fresh, "新项目", "梧桐", "1000"],
        [fresh, "新项目副本", "梧桐", "1000"],
        [existing["id"], "又一次", "梧桐", "1000"],
    ]
    report = (await upload(registry, csv_bytes(rows, header), dry_run=True)).json()
    assert [(e["row"], e["reason"]) for e in report["errors"]] == [
        (3, "'not-a-uuid' is not a project id (a UUID)"),
        (5, "same project as row 4"),
        (6, "same project as row 2"),
    ]
    assert [o["action"] for o in report["outcomes"]] == [
        "update",
        "error",
        "create",
        "error",
        "error",
    ]


async def test_an_operator_imports_only_into_own_parks(registry: httpx.AsyncClient) -> None:
    response = await upload(
        registry, csv_bytes(GOOD_ROWS), dry_run=True, headers=auth(Role.OPERATOR, parks=("梧桐",))
    )
    assert [(e["row"], e["reason"]) for e in response.json()["errors"]] == [
        (3, "role operator with parks [梧桐] may not change park 双桥")
    ]


async def test_a_retried_import_with_its_key_imports_once(registry: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "ledger-2023-06"}
    first = await upload(registry, csv_bytes(GOOD_ROWS), headers=key)
    again = await upload(registry, csv_bytes(GOOD_ROWS), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await count(registry) == 2


# --- export and the round trip ------------------------------------------------------------------


async def rich_ledger(client: httpx.AsyncClient) -> None:
    a = await create(client)
    b = await create(
        client,
        name="郑州机械研究所高端装备制造产业园",
        park="石佛",
        initial_stage="UNDER_CONSTRUCTION",
        started_date="2023-03-01",
        signed_date=None,
        enterprise={"name": "郑州机械研究所有限公司", "origin": "LOCAL"},
        construction_content='厂房 7.41万㎡, "高端装备", 逗号,引号',
        chain_tag="NEW_MATERIALS",
        contract_amount=None,
    )
    await create(client, name="清智机器人创新中心", park="枫杨", enterprise=None, category=None, chain_tag=None, is_manufacturing=False, funding_origin=None, national_project_code=None)  # fmt: skip
    assert (await list_on(client, a["id"], 7, "SIGN")).status_code == 201
    assert (await list_on(client, a["id"], 8, "START")).status_code == 201
    assert (await list_on(client, b["id"], 8, "PRODUCE")).status_code == 201
    await stage_changed(client, a["id"], "UNDER_CONSTRUCTION", "2023-04-05")


MASTER_DATA = [k for k in FULL_PROJECT if k != "enterprise"] + ["enterprise", "initial_stage"]


def master(project: dict[str, Any]) -> dict[str, Any]:
    return {k: project[k] for k in ["id", *MASTER_DATA]}


@pytest.mark.parametrize(
    ("fmt", "language"), [("csv", "zh"), ("xlsx", "zh"), ("csv", "en"), ("xlsx", "en")]
)
async def test_export_then_import_round_trips(
    registry: httpx.AsyncClient,
    tmp_path: Path,
    fmt: str,
    language: str,
    another_database: Callable[[], Awaitable[str]],
) -> None:
    await rich_ledger(registry)
    exported = await registry.get(
        "/v1/projects/export", params={"format": fmt, "headers": language}
    )
    assert exported.status_code == 200
    assert f'filename="sanpi-projects.{fmt}"' in exported.headers["content-disposition"]
    originals = (await registry.get("/v1/projects")).json()["items"]
    async with registry_client(tmp_path / "other", database_url=await another_database()) as other:
        await open_period(other, 7, "2023-01-28")
        await open_period(other, 8, "2023-04-03")
        imported = await upload(other, exported.content, name=f"back.{fmt}")
        assert imported.status_code == 201, imported.text
        copies = (await other.get("/v1/projects")).json()["items"]
        assert [master(p) for p in copies] == [master(p) for p in originals]
        again = await other.get("/v1/projects/export", params={"format": fmt, "headers": language})
    first, second = sheet_rows(exported.content, fmt), sheet_rows(again.content, fmt)
    stage_column = first[0].index("当前阶段" if language == "zh" else "stage")
    assert [r[:stage_column] for r in first] == [r[:stage_column] for r in second]
    assert first[1][first[0].index("签约期次" if language == "zh" else "sign_period")] in (7, "7")


def sheet_rows(content: bytes, fmt: str) -> list[list[Any]]:
    """The header and the rows below it (an XLSX export has a title and a note row above)."""
    if fmt == "csv":
        return [list(r) for r in csv.reader(io.StringIO(content.decode("utf-8-sig")))]
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)][2:]


async def test_export_applies_the_list_filters(registry: httpx.AsyncClient) -> None:
    await rich_ledger(registry)
    exported = await registry.get("/v1/projects/export", params={"format": "csv", "park": "石佛"})
    rows = sheet_rows(exported.content, "csv")
    assert len(rows) == 2
    assert rows[1][rows[0].index("项目名称")] == "郑州机械研究所高端装备制造产业园"
    assert rows[1][rows[0].index("企业来源")] == "本地"
    assert rows[1][rows[0].index("当前阶段")] == "在建"
    bad = await registry.get("/v1/projects/export", params={"format": "pdf"})
    assert bad.status_code == 422


async def test_every_problem_of_a_row_is_reported(registry: httpx.AsyncClient) -> None:
    rows = [["坏行", "火星", "-1", "", "区块链", "也许", "", "99"]]
    report = (await upload(registry, csv_bytes(rows), dry_run=True)).json()
    assert sorted(e["column"] for e in report["errors"]) == sorted(
        ["所属园区", "总投资（万元）", "产业链", "是否制造业", "签约期次"]
    )
    rows = [["只有日期错", "火星", "1000", "2000", "", "", "明天", "99"]]
    report = (await upload(registry, csv_bytes(rows), dry_run=True)).json()
    assert sorted(e["column"] for e in report["errors"]) == sorted(
        ["所属园区", "签约额(万元)", "计划开工日期", "签约期次"]
    )


async def test_the_upload_route_has_its_own_larger_body_limit(tmp_path: Path) -> None:
    """A sheet may be much larger than a JSON command: the import route takes up to
    import_max_bytes (plus multipart framing); above it, and above the default elsewhere, 413."""
    rows = "".join(f"项目{i:05d},梧桐,1000\n" for i in range(4000))
    sheet = f"项目名称,所属园区,总投资(万元)\n{rows}".encode()
    assert 50_000 < len(sheet) < 200_000
    async with registry_client(tmp_path, max_body_bytes=10_000, import_max_bytes=200_000) as client:
        accepted = await client.post(
            "/v1/projects/import",
            params={"dry_run": "true"},
            files={"file": ("ledger.csv", sheet, "text/csv")},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["valid_rows"] == 4000
        too_large = await client.post(
            "/v1/projects/import",
            params={"dry_run": "true"},
            files={"file": ("ledger.csv", sheet * 3, "text/csv")},
        )
        assert too_large.status_code == 413
        assert too_large.headers["content-type"] == "application/problem+json"
        assert "exceeds" in too_large.json()["detail"]
        command = await client.post(
            "/v1/projects", json={"name": "x" * 20_000, "park": "梧桐", "total_investment": 1}
        )
        assert command.status_code == 413
