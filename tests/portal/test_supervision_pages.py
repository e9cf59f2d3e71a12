"""督办 pages against the services in-process: a red alert nobody acknowledged becomes an item on
/alerts/supervision; the park's operator answers it, an official closes it, and it moves to the
closed tab; an operator of another park sees none of it and a forged answer is refused."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sanpi.kit import FixedClock, Role
from tests.support.portal import District, csrf_of
from tests.support.waiting import eventually


async def an_item(d: District) -> dict[str, Any]:
    """The red alert of a 梧桐 project, left unacknowledged until its first escalation step."""
    await d.admin("notification", "POST", "/v1/subscriptions", json={"channel": "inbox"})
    await d.admin(
        "notification",
        "POST",
        "/v1/contacts",
        json={"name": "王建国", "unit": "梧桐园区运营中心", "email": "wang@wutong.example.cn"},
    )
    project = await d.project(
        "梧桐迟迟未开工项目", "梧桐", signed_date="2022-10-01", responsible_unit="梧桐园区运营中心"
    )
    # 履约 recorded (else R01 is red beside R02): one red alert, one 督办 item.
    await d.admin(
        "milestone",
        "POST",
        f"/v1/projects/{project}/milestones",
        json={"kind": "FULFILLED", "date": "2022-11-15"},
    )
    await d.world.pump()
    await d.evaluate("2023-06-15")
    clock = d.world.runtime("notification").clock
    assert isinstance(clock, FixedClock)
    clock.advance(dt.timedelta(minutes=10))  # the first step: 10 working minutes in the tests

    async def opened() -> list[dict[str, Any]]:
        found = await d.admin("notification", "GET", "/v1/supervision")
        items: list[dict[str, Any]] = found["items"]
        return items

    [item] = await eventually(opened, what="the 督办 item")
    found: dict[str, Any] = item
    return found


async def test_the_unit_answers_an_item_and_an_official_closes_it(district: District) -> None:
    item = await an_item(district)
    portal = district.portal
    await portal.add_user("wangjg", Role.OPERATOR, ("梧桐",), display_name="王建国")
    await portal.login("wangjg")
    page = await portal.client.get("/alerts/supervision")
    assert page.status_code == 200, page.text
    assert "督办事项" in page.text
    assert "梧桐迟迟未开工项目" in page.text
    assert "签约后未开工" in page.text
    assert "：梧桐迟迟未开工项目" not in page.text  # the name once, as the link, not again
    assert "梧桐园区运营中心" in page.text
    assert "王建国 · 第1级" in page.text
    assert "待反馈" in page.text

    empty = await portal.client.post(
        "/alerts/supervision/respond",
        data={"csrf_token": csrf_of(page.text), "item_id": item["id"], "response": " "},
    )
    assert empty.status_code == 422
    assert "请填写整改说明" in empty.text

    answer = await portal.client.post(
        "/alerts/supervision/respond",
        data={
            "csrf_token": csrf_of(page.text),
            "item_id": item["id"],
            "response": "已约谈企业，承诺月底前开工",
        },
    )
    assert answer.status_code == 303, answer.text
    after = await portal.client.get(answer.headers["location"])
    assert "整改说明已提交" in after.text
    assert "已反馈，待办结" in after.text
    assert "已约谈企业，承诺月底前开工" in after.text

    await portal.add_user("official", Role.ADMIN, ())
    await portal.login("official")
    page = await portal.client.get("/alerts/supervision")
    closed = await portal.client.post(
        "/alerts/supervision/close",
        data={"csrf_token": csrf_of(page.text), "item_id": item["id"], "note": "同意办结"},
    )
    assert closed.status_code == 303, closed.text
    active = await portal.client.get("/alerts/supervision")
    assert "暂无待办督办事项" in active.text
    done = await portal.client.get("/alerts/supervision", params={"tab": "closed"})
    assert "梧桐迟迟未开工项目" in done.text
    assert re.search(r"official 于 .+ 办结：同意办结", done.text)
    state = await district.admin("notification", "GET", f"/v1/supervision/{item['id']}")
    assert (state["status"], state["responded_by"], state["closed_by"]) == (
        "closed",
        "wangjg",
        "official",
    )


async def test_an_operator_of_another_park_sees_no_item_and_cannot_answer_one(
    district: District,
) -> None:
    item = await an_item(district)
    portal = district.portal
    await portal.add_user("fengyang", Role.OPERATOR, ("枫杨",))
    await portal.login("fengyang")
    page = await portal.client.get("/alerts/supervision")
    assert "梧桐迟迟未开工项目" not in page.text
    assert "暂无待办督办事项" in page.text
    forged = await portal.client.post(
        "/alerts/supervision/respond",
        data={"csrf_token": csrf_of(page.text), "item_id": item["id"], "response": "x"},
    )
    assert forged.status_code == 422
    assert "您无权处理该园区的督办事项" in forged.text
    state = await district.admin("notification", "GET", f"/v1/supervision/{item['id']}")
    assert state["status"] == "open"
