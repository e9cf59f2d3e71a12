"""交办事项 pages against the services in-process (2023-06-15): the list at /alerts/issues (open ones
first and due first, by park, state and overdue, a page at a time), the unit's feedback and the
official's closure as plain forms, refusals in Chinese naming the problem, and the section on a
project's page with its form to assign one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sanpi.kit import Role
from tests.support.portal import District, csrf_of, portal_in_process, portal_settings
from tests.support.world import three_services

LATE = "土地证办理滞后，影响开工"
FRESH = "高压线迁改需供电公司配合"
OTHER_PARK = "枫杨项目资金未到位"


async def issue(d: District, project: str, **fields: Any) -> dict[str, Any]:
    body = {"assigned_unit": "高新区自然资源局", "category": "LAND", **fields}
    found: dict[str, Any] = await d.admin(
        "milestone", "POST", f"/v1/projects/{project}/issues", json=body
    )
    return found


async def three_issues(d: District) -> dict[str, Any]:
    """Two issues of a 梧桐 project (one overdue since 06-12, one raised the day before) and one
    of a 枫杨 project."""
    wutong = await d.project("梧桐氢能装备项目", "梧桐")
    fengyang = await d.project("枫杨智能终端项目", "枫杨")
    fresh = await issue(
        d,
        wutong,
        description=FRESH,
        category="POWER",
        raised_on="2023-06-14",
        assigned_unit="供电公司",
    )
    late = await issue(d, wutong, description=LATE, raised_on="2023-06-01")
    other = await issue(
        d,
        fengyang,
        description=OTHER_PARK,
        category="FUNDING",
        raised_on="2023-06-13",
        assigned_unit="枫杨园区财政所",
    )
    return {"wutong": wutong, "fengyang": fengyang, "late": late, "fresh": fresh, "other": other}


async def wutong_on_the_list(district: District) -> tuple[str, str]:
    """The three issues, and 梧桐's operator logged in on the list: the overdue issue's id and
    the page."""
    made = await three_issues(district)
    await district.portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await district.portal.login("wutong")
    page = await district.portal.client.get("/alerts/issues")
    return made["late"]["id"], page.text


async def test_the_list_shows_the_parks_open_issues_overdue_and_due_first(
    district: District,
) -> None:
    made = await three_issues(district)
    assert made["late"]["overdue_days"] > 0
    assert made["fresh"]["overdue_days"] == 0
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get("/alerts/issues")
    assert page.status_code == 200, page.text
    assert "交办事项" in page.text
    # Raised later but due first: the overdue one leads.
    assert page.text.index(LATE) < page.text.index(FRESH)
    assert OTHER_PARK not in page.text  # another park's
    assert f'href="/projects/{made["wutong"]}"' in page.text
    assert "梧桐氢能装备项目" in page.text
    assert "高新区自然资源局" in page.text
    assert "供电公司" in page.text
    assert f"逾期 {made['late']['overdue_days']} 天" in page.text
    assert "用地手续" in page.text
    assert "电力接入" in page.text
    assert "待反馈" in page.text

    overdue = await portal.client.get("/alerts/issues", params={"overdue": "true"})
    assert LATE in overdue.text
    assert FRESH not in overdue.text
    refused = await portal.client.get("/alerts/issues", params={"park": "枫杨"})
    assert "你不负责这个园区" in refused.text
    assert OTHER_PARK not in refused.text

    await portal.add_user("official", Role.VIEWER, ())
    await portal.login("official")
    everything = await portal.client.get("/alerts/issues")
    assert all(t in everything.text for t in (LATE, FRESH, OTHER_PARK))
    assert "<textarea" not in everything.text  # a viewer gets no forms
    fengyang = await portal.client.get("/alerts/issues", params={"park": "枫杨"})
    assert OTHER_PARK in fengyang.text
    assert LATE not in fengyang.text
    closed = await portal.client.get("/alerts/issues", params={"state": "closed"})
    assert "暂无已办结的交办事项" in closed.text


async def test_the_unit_gives_feedback_and_an_official_closes_the_issue(
    district: District,
) -> None:
    late, page = await wutong_on_the_list(district)
    portal = district.portal
    token = csrf_of(page)

    empty = await portal.client.post(
        "/alerts/issues/feedback", data={"csrf_token": token, "issue_id": late, "text": " "}
    )
    assert empty.status_code == 422
    assert f"请填写对“{LATE}”的反馈" in empty.text

    sent = await portal.client.post(
        "/alerts/issues/feedback",
        data={"csrf_token": token, "issue_id": late, "text": "已协调国土所，下周一递交材料"},
    )
    assert sent.status_code == 303, sent.text
    after = await portal.client.get(sent.headers["location"])
    assert "反馈已提交" in after.text
    assert "已协调国土所，下周一递交材料" in after.text
    assert "已反馈，办理中" in after.text

    await portal.add_user("official", Role.ADMIN, ())
    await portal.login("official")
    token = csrf_of((await portal.client.get("/alerts/issues")).text)
    no_evidence = await portal.client.post(
        "/alerts/issues/close", data={"csrf_token": token, "issue_id": late, "note": "好"}
    )
    assert no_evidence.status_code == 422
    assert f"请为“{LATE}”提供至少一个办结佐证" in no_evidence.text
    closed = await portal.client.post(
        "/alerts/issues/close",
        data={
            "csrf_token": token,
            "issue_id": late,
            "evidence": "https://zrzy.example.cn/permits/2023-118\n",
            "note": "土地证已发放",
        },
    )
    assert closed.status_code == 303, closed.text
    open_now = await portal.client.get(closed.headers["location"])
    assert "交办事项已办结" in open_now.text
    assert LATE not in open_now.text
    assert FRESH in open_now.text
    done = await portal.client.get("/alerts/issues", params={"state": "closed"})
    assert LATE in done.text
    assert FRESH not in done.text
    assert re.search(r"official 于 .+ 办结：土地证已发放", done.text)
    assert "https://zrzy.example.cn/permits/2023-118" in done.text
    closed_late = await portal.client.get(
        "/alerts/issues", params={"state": "closed", "overdue": "true"}
    )
    assert LATE in closed_late.text  # closed three days after its due day
    again = await portal.client.post(
        "/alerts/issues/close",
        data={"csrf_token": token, "issue_id": late, "evidence": "https://x.example.cn/1"},
    )
    assert again.status_code == 422
    assert f"“{LATE}”已经办结" in again.text
    state = await district.admin("milestone", "GET", f"/v1/issues/{late}")
    assert (state["status"], state["closed_by"], state["evidence"]) == (
        "CLOSED",
        "official",
        ["https://zrzy.example.cn/permits/2023-118"],
    )
    assert [f["by"] for f in state["feedback"]] == ["wutong"]


async def test_a_form_sent_after_someone_else_changed_the_issue_overwrites_nothing(
    district: District,
) -> None:
    late, page = await wutong_on_the_list(district)
    portal = district.portal
    # Both forms of the issue carry the version the page shows.
    shown = f'name="issue_id" value="{late}"><input type="hidden" name="version" value="1">'
    assert page.count(shown) == 2
    token = csrf_of(page)
    # Meanwhile an official answers it (version 2) …
    await district.admin(
        "milestone", "POST", f"/v1/issues/{late}/feedback", json={"text": "督查室已催办"}
    )
    # … so the operator's feedback and closing on the page's version 1 are refused, saying why.
    for path, field in (
        ("feedback", {"text": "已递交材料"}),
        ("close", {"evidence": "https://x.cn/1"}),
    ):
        stale = await portal.client.post(
            f"/alerts/issues/{path}",
            data={"csrf_token": token, "issue_id": late, "version": "1", **field},
        )
        assert stale.status_code == 422, stale.text
        assert f"“{LATE}”已被他人修改（反馈或办结）" in stale.text
        # The page again, with the official's feedback and the version to send now.
        assert "督查室已催办" in stale.text
        assert f'name="issue_id" value="{late}"><input type="hidden" name="version" value="2">' in (
            stale.text
        )
    state = await district.admin("milestone", "GET", f"/v1/issues/{late}")
    assert (state["status"], state["version"]) == ("IN_PROGRESS", 2)
    assert [f["text"] for f in state["feedback"]] == ["督查室已催办"]


async def test_an_operator_of_another_park_cannot_answer_or_close_an_issue(
    district: District,
) -> None:
    made = await three_issues(district)
    late = made["late"]["id"]
    portal = district.portal
    await portal.add_user("fengyang", Role.OPERATOR, ("枫杨",))
    await portal.login("fengyang")
    page = await portal.client.get("/alerts/issues")
    assert LATE not in page.text
    assert OTHER_PARK in page.text
    token = csrf_of(page.text)
    forged = await portal.client.post(
        "/alerts/issues/feedback", data={"csrf_token": token, "issue_id": late, "text": "x"}
    )
    assert forged.status_code == 422
    assert f"您无权办理该园区的交办事项（“{LATE}”）" in forged.text
    closing = await portal.client.post(
        "/alerts/issues/close",
        data={"csrf_token": token, "issue_id": late, "evidence": "https://x.example.cn/1"},
    )
    assert closing.status_code == 422
    assert "您无权办理该园区的交办事项" in closing.text
    missing = await portal.client.post(
        "/alerts/issues/feedback", data={"csrf_token": token, "issue_id": "nope", "text": "x"}
    )
    assert missing.status_code == 422
    assert "该交办事项不存在" in missing.text
    state = await district.admin("milestone", "GET", f"/v1/issues/{late}")
    assert (state["status"], state["feedback"]) == ("OPEN", [])


async def test_a_projects_page_lists_its_issues_and_assigns_one(district: District) -> None:
    made = await three_issues(district)
    project = made["wutong"]
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get(f"/projects/{project}")
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="issues"') :]
    assert LATE in section
    assert FRESH in section
    assert OTHER_PARK not in section
    assert section.index(LATE) < section.index(FRESH)
    assert 'href="/alerts/issues"' in section
    assert f'action="/projects/{project}/issues"' in section
    assert '<option value="OTHER" selected>' in section  # the service's default category
    token = csrf_of(page.text)

    unitless = await portal.client.post(
        f"/projects/{project}/issues",
        data={"csrf_token": token, "description": "环评批复未下达", "assigned_unit": " "},
    )
    assert unitless.status_code == 422
    assert "此项必填。" in unitless.text
    assert "环评批复未下达" in unitless.text  # what was typed stays

    raised = await portal.client.post(
        f"/projects/{project}/issues",
        data={
            "csrf_token": token,
            "description": "环评批复未下达",
            "assigned_unit": "市生态环境局高新分局",
            "category": "APPROVAL",
            "term": "MAJOR",
        },
    )
    assert raised.status_code == 303, raised.text
    assert raised.headers["location"] == f"/projects/{project}?raised=1#issues"
    shown = await portal.client.get(f"/projects/{project}?raised=1")
    assert "问题已交办" in shown.text
    assert "环评批复未下达" in shown.text
    assert "审批手续" in shown.text
    found = await district.admin("milestone", "GET", f"/v1/projects/{project}/issues")
    [new] = [i for i in found["items"] if i["description"] == "环评批复未下达"]
    assert (new["assigned_unit"], new["term"], new["raised_by"]) == (
        "市生态环境局高新分局",
        "MAJOR",
        "wutong",
    )

    await portal.add_user("fengyang", Role.OPERATOR, ("枫杨",))
    await portal.login("fengyang")
    theirs = await portal.client.get(f"/projects/{project}")
    assert LATE in theirs.text  # reading is open to all
    assert f'action="/projects/{project}/issues"' not in theirs.text
    forged = await portal.client.post(
        f"/projects/{project}/issues",
        data={"csrf_token": csrf_of(theirs.text), "description": "x", "assigned_unit": "y"},
    )
    assert forged.status_code == 422
    assert "您无权向该园区的项目交办问题" in forged.text


async def test_the_list_pages_through_a_park_among_many(
    database_url: str, tmp_path: Path, service_databases: None
) -> None:
    """Pages of two: the ledger holds other parks' issues between the visitor's, which the
    milestone service leaves out (park=); every issue of the park shows once across the pages,
    and each page is full but the last."""
    async with (
        three_services(tmp_path) as world,
        portal_in_process(
            portal_settings(database_url, tmp_path / "portal", page_size=2), world.apps
        ) as portal,
    ):
        d = District(world, portal)
        wutong = await d.project("梧桐项目", "梧桐")
        fengyang = await d.project("枫杨项目", "枫杨")
        mine = []
        for n in range(5):
            await issue(d, fengyang, description=f"枫杨问题{n}")
            mine.append((await issue(d, wutong, description=f"梧桐问题{n}"))["description"])
        await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
        await portal.login("wutong")
        seen: list[str] = []
        url = "/alerts/issues"
        for _page in range(5):
            page = await portal.client.get(url)
            assert page.status_code == 200, page.text
            assert "枫杨问题" not in page.text
            found = re.findall(r"梧桐问题\d", page.text)
            seen += found
            more = re.search(r'href="(\?[^"]*cursor=[^"]+)"', page.text)
            if more is None:
                break
            assert len(found) == 2
            url = "/alerts/issues" + more.group(1).replace("&amp;", "&")
        assert sorted(seen) == sorted(mine)
