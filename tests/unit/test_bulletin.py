"""The 通报 of a 旬 (milestone service, the registry's indicators over its API): red projects as the
alerts of an evaluation as of the 旬's end, parks ranked by investment completion, new starts, and
the files: XLSX with a chart, an A4 PDF with the Chinese font embedded."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from sanpi.kit import Role
from sanpi.office.templates import display_width
from tests.support import office
from tests.support.apps import auth
from tests.support.world import World, three_services

ADMIN = auth(Role.ADMIN, subject="admin-1")
TODAY = dt.date(2023, 3, 25)


async def project(world: World, **fields: Any) -> str:
    body = {"total_investment": 100_000, "signed_date": "2023-01-28", **fields}
    response = await world.clients["registry"].post("/v1/projects", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    return pid


async def plan(world: World, pid: str, annual: int) -> None:
    response = await world.clients["milestone"].put(
        f"/v1/projects/{pid}/investment-plans/2023", json={"annual_plan": annual}, headers=ADMIN
    )
    assert response.status_code == 200, response.text


async def report(world: World, pid: str, key: str, ytd: int, on: str) -> None:
    response = await world.clients["milestone"].post(
        f"/v1/projects/{pid}/progress",
        json={
            "period_key": key,
            "completed_investment_cum": ytd,
            "completed_investment_ytd": ytd,
            "submitted_on": on,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text


# The three services run in this process: each needs a database of its own (on PostgreSQL).
pytestmark = pytest.mark.usefixtures("service_databases")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with three_services(tmp_path, today=TODAY) as world:
        world.apps["milestone"].state.registry_transport = httpx.ASGITransport(
            app=world.apps["registry"]
        )
        registry = world.clients["registry"]
        for kind, value in (("SIGN_AMOUNT", 4_000_000), ("NEW_START_INVESTMENT", 2_900_000)):
            made = await registry.post(
                "/v1/targets",
                json={"year": 2023, "scope": "郑州高新区", "kind": kind, "value": value},
                headers=ADMIN,
            )
            assert made.status_code in (200, 201), made.text
        yield world


async def seed(world: World) -> dict[str, str]:
    """Three parks: 梧桐 on plan; 双桥 behind, with a project signed in 2022 that never started
    (R02 red: over 180 days since signing); 石佛 a project that started in the 旬."""
    ids = {
        "on_plan": await project(
            world,
            name="雄韬氢能产业园",
            park="梧桐",
            initial_stage="UNDER_CONSTRUCTION",
            started_date="2023-01-05",
            planned_start_date="2023-01-05",
            signed_date=None,
            responsible_unit="梧桐园区运营中心",
        ),
        "silent": await project(
            world,
            name='=HYPERLINK("http://x","京东方")',
            park="双桥",
            initial_stage="UNDER_CONSTRUCTION",
            started_date="2023-01-05",
            planned_start_date="2023-01-05",
            signed_date=None,
            responsible_unit="双桥园区运营中心",
        ),
        "unstarted": await project(
            world,
            name="清智机器人创新中心",
            park="双桥",
            signed_date="2022-06-01",
            planned_start_date="2022-09-01",
            responsible_unit="双桥园区运营中心",
        ),
        "new_start": await project(
            world, name="艾派克微集成电路封测", park="石佛", planned_start_date="2023-03-01"
        ),
    }
    await world.pump()
    await plan(world, ids["on_plan"], 12_000)
    await plan(world, ids["silent"], 24_000)
    for key, ytd, on in (
        ("2023-01-X1", 300, "2023-01-11"),
        ("2023-01-X2", 600, "2023-01-21"),
        ("2023-01-X3", 1_000, "2023-02-01"),
        ("2023-01", 1_000, "2023-02-02"),
        ("2023-02-X1", 1_400, "2023-02-11"),
        ("2023-02-X2", 1_700, "2023-02-21"),
        ("2023-02-X3", 2_000, "2023-03-01"),
        ("2023-02", 2_000, "2023-03-02"),
        ("2023-03-X1", 2_400, "2023-03-11"),
        ("2023-03-X2", 2_800, "2023-03-21"),
    ):
        await report(world, ids["on_plan"], key, ytd, on)
    await report(world, ids["silent"], "2023-01-X1", 500, "2023-01-11")
    started = await world.clients["milestone"].post(
        f"/v1/projects/{ids['new_start']}/milestones",
        json={
            "kind": "STARTED",
            "date": "2023-03-15",
            "evidence": ["https://photos.example/site-2023-03-15.jpg"],
        },
        headers=ADMIN,
    )
    assert started.status_code == 201, started.text
    # In the statistics (入库纳统) five weeks after its start: on plan in every respect (R08).
    counted = await world.clients["milestone"].post(
        f"/v1/projects/{ids['on_plan']}/milestones",
        json={"kind": "IN_STATISTICS", "date": "2023-02-10"},
        headers=ADMIN,
    )
    assert counted.status_code == 201, counted.text
    await world.pump()
    return ids


async def test_the_bulletin_of_a_xun_pins_to_the_apis_own_alerts_and_indicators(
    world: World,
) -> None:
    ids = await seed(world)
    milestone = world.clients["milestone"]
    response = await milestone.get("/v1/bulletins/2023-03-X2", headers=auth(Role.VIEWER))
    assert response.status_code == 200, response.text
    bulletin = response.json()
    assert (bulletin["as_of"], bulletin["provisional"], bulletin["period_label"]) == (
        "2023-03-20",
        False,
        "2023年3月中旬",
    )
    assert bulletin["title"] == "郑州高新区“三个一批”项目建设旬通报"
    # The red projects are those an evaluation as of the 旬's end raises, rule for rule.
    evaluated = await milestone.post(
        "/v1/admin/evaluate", params={"as_of": "2023-03-20", "pin": "true"}, headers=ADMIN
    )
    assert evaluated.status_code == 200
    alerts = (
        await milestone.get(
            "/v1/alerts", params={"severity": "red", "state": "FIRING", "limit": 200}, headers=ADMIN
        )
    ).json()["items"]
    # A rule raised per 旬 and per month (R04, R07) is one line of its project.
    expected = sorted({(a["project_id"], a["rule"]) for a in alerts})
    shown = sorted(
        (r["project_id"], h["rule"]) for r in bulletin["red_projects"] for h in r["rules"]
    )
    assert shown == expected
    assert ids["unstarted"] in {r["project_id"] for r in bulletin["red_projects"]}
    assert ids["on_plan"] not in {r["project_id"] for r in bulletin["red_projects"]}
    red = next(r for r in bulletin["red_projects"] if r["project_id"] == ids["unstarted"])
    assert red["responsible_unit"] == "双桥园区运营中心"
    # Signed in June 2022 with neither 履约 nor a start: R01 and R02, both red.
    assert [h["rule"] for h in red["rules"]] == ["R01", "R02"]
    # The district's targets are the registry's indicators as of the same day.
    indicators = (
        await world.clients["registry"].get(
            "/v1/indicators", params={"as_of": "2023-03-20"}, headers=ADMIN
        )
    ).json()
    assert bulletin["district"]["time_progress_pct"] == indicators["time_progress_pct"]
    assert [
        (t["kind"], t["attainment_pct"], t["gap_pts"]) for t in bulletin["district"]["targets"]
    ] == [(t["kind"], t["attainment_pct"], t["gap_pts"]) for t in indicators["targets"]]
    # Parks ranked by completion of their annual plans (latest report of the year by the 20th).
    ranking = [(p["rank"], p["park"], p["investment"]["completion_pct"]) for p in bulletin["parks"]]
    assert ranking[:2] == [
        (1, "梧桐", round(2_800 / 12_000 * 100, 1)),
        (2, "双桥", round(500 / 24_000 * 100, 1)),
    ]
    marks = {p["park"]: p["mark_zh"] for p in bulletin["parks"]}
    lights = {
        x["park"]: x["overall"]
        for x in (await milestone.get("/v1/traffic-lights", headers=ADMIN)).json()["items"]
    }
    assert marks["双桥"] == "红"
    assert lights["双桥"] == "red"
    assert marks["梧桐"] == {"red": "红", "orange": "黄", "yellow": "黄"}.get(lights["梧桐"], "绿")
    assert [s["project_id"] for s in bulletin["started"]] == [ids["new_start"]]
    assert bulletin["started"][0]["day"] == "2023-03-15"


async def test_the_districts_investment_is_the_sum_of_its_parks_on_the_day(world: World) -> None:
    """A project signed after the 旬's end (or cancelled before it) is in no park's line of the
    bulletin: its annual plan was in the district's (the demo's 2023-03-X2 read a plan of 348.63
    亿 for the district and 179.46 亿 over its parks, and the district behind while every park
    was ahead)."""
    await seed(world)
    later = await project(world, name="晚签约项目", park="梧桐", signed_date="2023-03-23")
    await world.pump()
    await plan(world, later, 60_000)
    await world.pump()
    response = await world.clients["milestone"].get("/v1/bulletins/2023-03-X2", headers=ADMIN)
    assert response.status_code == 200, response.text
    bulletin = response.json()
    district = bulletin["district"]["investment"]
    parks = [p["investment"] for p in bulletin["parks"]]
    for field in ("annual_plan", "completed_ytd", "expected_ytd"):
        assert district[field] == sum(p[field] for p in parks), field
    assert district["annual_plan"] == 12_000 + 24_000


async def test_the_starts_of_one_day_are_listed_by_park_not_as_they_came_in(world: World) -> None:
    """Projects registered under construction on one day of the 旬 are listed by park and name:
    the milestone service takes their registrations in from Kafka, whose partitions interleave
    differently from one load of the demo to the next, and the bulletin followed that order."""
    for park in ("石佛", "梧桐", "双桥"):  # registered in the reverse of the parks' order
        await project(
            world,
            name=f"{park}新开工项目",
            park=park,
            initial_stage="UNDER_CONSTRUCTION",
            started_date="2023-03-13",
            planned_start_date="2023-03-13",
            signed_date=None,
        )
    await world.pump()
    response = await world.clients["milestone"].get("/v1/bulletins/2023-03-X2", headers=ADMIN)
    assert response.status_code == 200, response.text
    started = response.json()["started"]
    assert [(s["day"], s["park"]) for s in started] == [
        ("2023-03-13", park) for park in sorted(("石佛", "梧桐", "双桥"))
    ]


async def test_the_bulletin_files_open_in_libreoffice_and_print_in_chinese(
    world: World, tmp_path: Path
) -> None:
    await seed(world)
    milestone = world.clients["milestone"]
    xlsx = await milestone.get("/v1/bulletins/2023-03-X2", params={"format": "xlsx"}, headers=ADMIN)
    assert xlsx.status_code == 200
    assert "sanpi-bulletin-2023-03-X2.xlsx" in xlsx.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(xlsx.content)).namelist()
    assert "xl/charts/chart1.xml" in names
    sheet_xml = zipfile.ZipFile(io.BytesIO(xlsx.content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml  # the HYPERLINK project name stays text
    book = load_workbook(io.BytesIO(xlsx.content))
    texts = [c.value for row in book["通报"].iter_rows() for c in row if c.value]
    assert "三、园区排名（按年度计划投资完成率）" in texts
    # Every table cell fits its column on one line or its row is as tall as its lines: the
    # amounts (88.16 亿元) wrapped in a column 8 wide and overlapped the row below, as did the
    # red projects' 情况, in LibreOffice and Excel alike (they keep a workbook's row heights).
    sheet = book["通报"]
    checked = 0
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None or cell.border.left.style is None:
                continue  # titles, the summary and the legend: not table cells
            width = sheet.column_dimensions[cell.column_letter].width
            lines = -(-display_width(cell.value) // int(width - 2))
            height = sheet.row_dimensions[cell.row].height or 15.0
            assert lines * 15.0 <= height, (cell.coordinate, cell.value, width, height)
            if lines > 1:
                assert width >= 40, (cell.coordinate, cell.value, width)  # only long text wraps
            checked += 1
    assert checked > 100
    # LibreOffice opens it and prints it to PDF (a damaged workbook fails to convert).
    converted = office.convert(
        _write(tmp_path / "b.xlsx", xlsx.content), office.PDF, tmp_path / "lo"
    )
    assert converted.stat().st_size > 5_000
    response = await milestone.get(
        "/v1/bulletins/2023-03-X2", params={"format": "pdf"}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    path = _write(tmp_path / "bulletin.pdf", response.content)
    fonts = office.pdf_fonts(path)
    assert "WenQuanYiZenHei" in fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:]), fonts  # every font embedded
    assert "Helvetica" not in fonts
    pages = office.pdf_pages_to_png(path, tmp_path / "page", dpi=60)
    assert len(pages) >= 1
    assert pages[0].stat().st_size > 20_000  # a rendered page, not a blank one


async def test_a_period_not_yet_begun_or_malformed_is_refused(world: World) -> None:
    milestone = world.clients["milestone"]
    later = await milestone.get("/v1/bulletins/2023-04-X1", headers=ADMIN)
    assert later.status_code == 422
    assert "尚未开始" in later.json()["detail"]
    bad = await milestone.get("/v1/bulletins/2023-13", headers=ADMIN)
    assert bad.status_code == 422
    running = (await milestone.get("/v1/bulletins/2023-03-X3", headers=ADMIN)).json()
    assert (running["as_of"], running["provisional"]) == ("2023-03-25", True)
    month = (await milestone.get("/v1/bulletins/2023-02", headers=ADMIN)).json()
    assert (month["kind"], month["title"][-3:]) == ("MONTH", "月通报")


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_a_gap_that_rounds_to_nothing_is_not_printed_as_behind() -> None:
    from sanpi.milestone.bulletins.documents import _pts

    # The API's gaps come rounded half up to one decimal already.
    assert [_pts(-0.0), _pts(0.0), _pts(-5.9), _pts(3.6), _pts(None)] == [
        "+0.0",
        "+0.0",
        "-5.9",
        "+3.6",
        "—",
    ]


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        # The registry away: the connection is refused.
        ("http://127.0.0.1:9", httpx.MockTransport(_refused)),
        # A registry_url httpx cannot use: a setting's mistake, still a 503 and no stack trace.
        ("http://[fd00::1:8001", None),
    ],
)
async def test_the_registry_unreachable_or_misconfigured_answers_503_in_chinese(
    tmp_path: Path, url: str, transport: httpx.AsyncBaseTransport | None
) -> None:
    from sanpi.kit import ServiceUnavailable
    from sanpi.milestone.bulletins.sources import registry_indicators
    from sanpi.milestone.settings import MilestoneSettings

    settings = MilestoneSettings(data_dir=tmp_path, kafka_enabled=False, registry_url=url)
    with pytest.raises(ServiceUnavailable) as refused:
        await registry_indicators(settings, TODAY, transport=transport)
    assert refused.value.status == 503
    assert "登记服务" in refused.value.detail
    # English on request, without the Chinese.
    assert refused.value.detail_in("en").startswith("the registry (")
