"""我的项目 and 项目详情 against the three services in-process: the operator sees their parks'
projects with colour, last report and next deadline, filters and searches them, and reads one
project's master data, alerts, chart, milestones and reports."""

from __future__ import annotations

import json
import re

from sanpi.kit import Role
from tests.support.portal import District


async def busy_district(d: District) -> dict[str, str]:
    ids = {
        "late": await d.project(
            "迟迟未开工的氢能产业园",
            "梧桐",
            signed_date="2022-12-01",
            national_project_code="2022-410171-39-03-012345",
        ),
        "busy": await d.project("在建的传感器基地", "梧桐"),
        "other": await d.project("石佛园区的项目", "石佛"),
    }
    await d.admin(
        "milestone",
        "POST",
        f"/v1/projects/{ids['busy']}/milestones",
        json={"kind": "STARTED", "date": "2023-03-01", "evidence": ["https://x/IMG_20230301.jpg"]},
    )
    for key, cum, ytd in (
        ("2023-04", 6_000, 6_000),
        ("2023-05", 9_000, 9_000),
        ("2023-06-X1", 12_000, 12_000),
    ):
        await d.admin(
            "milestone",
            "POST",
            f"/v1/projects/{ids['busy']}/progress",
            json={
                "period_key": key,
                "completed_investment_cum": cum,
                "completed_investment_ytd": ytd,
            },
        )
    await d.world.pump()
    await d.evaluate("2023-06-15")
    return ids


def rows(html: str) -> list[str]:
    return re.findall(r'<a href="/projects/[^"]+">([^<]+)</a>', html)


async def test_an_operator_sees_the_projects_of_their_parks_with_colour_and_deadlines(
    district: District,
) -> None:
    await busy_district(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get("/")
    assert page.status_code == 200, page.text
    assert rows(page.text) == ["在建的传感器基地", "迟迟未开工的氢能产业园"]
    assert "石佛园区的项目" not in page.text
    assert "sev-red" in page.text
    assert "红" in page.text
    assert "2023年6月上旬" in page.text  # the busy project's last report
    assert "15.00亿元" in page.text


async def test_filters_and_search_by_code(district: District) -> None:
    await busy_district(district)
    portal = district.portal
    await portal.add_user("official", Role.VIEWER, ())
    await portal.login("official")
    everything = await portal.client.get("/projects")
    assert len(rows(everything.text)) == 3
    red = await portal.client.get("/projects", params={"colour": "red"})
    assert "迟迟未开工的氢能产业园" in rows(red.text)
    by_park = await portal.client.get("/projects", params={"park": "石佛"})
    assert rows(by_park.text) == ["石佛园区的项目"]
    by_code = await portal.client.get("/projects", params={"q": "2022-410171"})
    assert rows(by_code.text) == ["迟迟未开工的氢能产业园"]
    by_stage = await portal.client.get("/projects", params={"stage": "UNDER_CONSTRUCTION"})
    assert rows(by_stage.text) == ["在建的传感器基地"]
    bad = await portal.client.get("/projects", params={"colour": "purple", "park": "石佛"})
    assert bad.status_code == 200
    assert "请从给出的选项中选择" in bad.text
    assert rows(bad.text) == ["石佛园区的项目"]


async def test_an_operator_cannot_filter_on_another_park(district: District) -> None:
    await busy_district(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get("/projects", params={"park": "石佛"})
    assert "石佛园区的项目" not in page.text
    assert "你不负责这个园区" in page.text or "不负责" in page.text


async def test_the_project_page_shows_plan_against_actual_with_the_time_progress_line(
    district: District,
) -> None:
    ids = await busy_district(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get(f"/projects/{ids['busy']}")
    assert page.status_code == 200, page.text
    found = re.search(
        r'<script type="application/json" id="invest-chart">(.*?)</script>', page.text, re.S
    )
    assert found is not None
    chart = json.loads(found.group(1))
    series = {s["name"]: s["data"] for s in chart["series"]}
    # The plan (3.6亿) reaches 1亿: the chart speaks 亿元.
    assert chart["yAxis"]["name"] == "亿元"
    assert series["本年累计完成投资"][:6] == [None, None, None, 0.6, 0.9, 1.2]
    assert series["序时进度"][11] == 3.6
    assert "发布节点" in page.text or "填报节点" in page.text  # 梧桐's operator may post
    # Beside the plan, where the year's investment is heading at its pace (12,000 of 36,000 in
    # the 102 days from the start on 1 March to 10 June: 306 days, 31 December).
    projection = re.search(
        r'<p class="small" id="investment-projection">(.*?)</p>', page.text, re.S
    )
    assert projection is not None
    assert "按目前进度，年度计划投资将于2023年12月31日完成" in projection.group(1), (
        projection.group(1)
    )
    assert "原计划" in page.text
    assert "现行计划" in page.text
    late = await portal.client.get(f"/projects/{ids['late']}")
    # Not started, planned for 1 March: as of the pinned 15 June it cannot start before today.
    table = late.text.split('id="h-milestones"')[1].split("</table>")[0]
    started_row = next(r for r in table.split("<tr>") if "开工" in r and "2023年3月1日" in r)
    assert "2023年6月15日" in started_row, started_row
    assert "晚 106 天" in started_row, started_row
    assert "梧桐" in page.text

    other = await portal.client.get(f"/projects/{ids['other']}")
    assert other.status_code == 200
    assert "/report/milestone" not in other.text  # no form for another park's project
