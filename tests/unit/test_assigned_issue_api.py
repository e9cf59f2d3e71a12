"""交办事项 over HTTP in-process (no broker): raising with 13710 deadlines, feedback, 销号 with
evidence, the list's filters and pages, the timeline, R12 raised and resolved, and the 422s
(naming the field, Chinese first)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.milestone import Milestones, at, milestone_service, operator

D = dt.date
FRIDAY = D(2023, 4, 21)  # before a 调休 Sunday and the Labour Day holiday


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path, today=FRIDAY) as service:
        await service.register("p1")
        await service.register("p2", name="枫杨新材料", park="枫杨")
        yield service


def issue_body(**changes: Any) -> dict[str, Any]:
    body = {
        "category": "POWER",
        "description": "双回路电力接入方案未批复",
        "assigned_unit": "区供电公司",
        "raised_by": "区长办公会",
    }
    return {**body, **changes}


async def raise_issue(svc: Milestones, project_id: str = "p1", **changes: Any) -> dict[str, Any]:
    response = await svc.client.post(
        f"/v1/projects/{project_id}/issues", json=issue_body(**changes)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, fields: list[str]) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert [e["field"] for e in body["errors"]] == fields
    return body


async def test_an_issue_is_due_by_the_13710_rule_in_working_days(svc: Milestones) -> None:
    body = await raise_issue(svc)
    assert (body["raised_on"], body["feedback_due_on"]) == ("2023-04-21", "2023-04-25")
    assert (body["due_on"], body["red_on"]) == ("2023-05-04", "2023-05-12")
    assert (body["status"], body["category_label"], body["raised_by"]) == (
        "OPEN",
        "电力接入",
        "区长办公会",
    )
    major = await raise_issue(svc, term="MAJOR", raised_on="2023-03-01")
    assert major["due_on"] == "2023-04-03"  # 1 April 2023 is a Saturday
    [raised, _] = await svc.events("sanpi.assigned_issue.raised")
    assert raised["subject"] == "p1"
    assert raised["data"]["responsible_unit"] == "区供电公司"
    assert raised["data"]["due_on"] == "2023-05-04"


async def test_feedback_then_closing_with_evidence_and_the_timeline(svc: Milestones) -> None:
    issue = await raise_issue(svc)
    iid = issue["id"]
    answered = await svc.client.post(f"/v1/issues/{iid}/feedback", json={"text": "已上报市公司"})
    assert answered.status_code == 201, answered.text
    assert answered.json()["status"] == "IN_PROGRESS"
    assert answered.json()["first_feedback_on"] == "2023-04-21"
    assert [f["text"] for f in answered.json()["feedback"]] == ["已上报市公司"]

    svc.clock.set(at(D(2023, 5, 8)))
    closed = await svc.client.post(
        f"/v1/issues/{iid}/close",
        json={"evidence": ["https://oa.example.cn/批复/2023-051.pdf"], "note": "方案已批复"},
    )
    assert closed.status_code == 200, closed.text
    got = closed.json()
    assert (got["status"], got["closed_on"], got["closed_by"]) == (
        "CLOSED",
        "2023-05-08",
        "admin-1",
    )
    assert got["overdue_days"] == 4
    [event] = await svc.events("sanpi.assigned_issue.closed")
    assert event["data"]["days_overdue"] == 4

    timeline = (await svc.client.get("/v1/projects/p1/timeline")).json()["items"]
    kinds = [i["event_type"] for i in timeline if "assigned_issue" in i["event_type"]]
    assert kinds == [
        "sanpi.assigned_issue.raised.v1",
        "sanpi.assigned_issue.feedback_added.v1",
        "sanpi.assigned_issue.closed.v1",
    ]
    assert "区供电公司" in timeline[-1]["summary"] or any("销号" in i["summary"] for i in timeline)


async def test_r12_raises_on_an_overdue_issue_and_resolves_when_it_is_closed(
    svc: Milestones,
) -> None:
    issue = await raise_issue(svc)
    key = f"R12:p1:{issue['id']}"
    await svc.evaluate("2023-04-25")  # the feedback day
    assert await svc.alert_events(key) == []
    await svc.evaluate("2023-04-26")
    assert await svc.alert_events(key) == [("raised", "yellow")]  # no feedback by 04-25
    svc.clock.set(at(D(2023, 4, 26)))
    answered = await svc.client.post(f"/v1/issues/{issue['id']}/feedback", json={"text": "已协调"})
    assert answered.status_code == 201, answered.text
    # The change's own evaluation (today, after the commit): answered and not yet due.
    assert await svc.alert_events(key) == [("raised", "yellow"), ("resolved", "yellow")]
    await svc.evaluate("2023-05-13")  # past twice the 7 working days
    assert (await svc.alert_events(key))[-1] == ("raised", "red")
    svc.clock.set(at(D(2023, 5, 13)))
    closed = await svc.client.post(
        f"/v1/issues/{issue['id']}/close", json={"evidence": ["https://oa.example.cn/x.pdf"]}
    )
    assert closed.status_code == 200, closed.text
    assert (await svc.alert_events(key))[-1] == ("resolved", "red")
    await svc.evaluate("2023-06-30")
    assert (await svc.alert_events(key))[-1] == ("resolved", "red")  # closed: silent


async def test_the_list_filters_by_open_overdue_and_unit_and_pages(svc: Milestones) -> None:
    first = await raise_issue(svc, raised_on="2023-04-03")  # due 2023-04-12
    await raise_issue(svc, assigned_unit="区自然资源局", category="LAND")
    other = await raise_issue(svc, "p2", raised_on="2023-04-03")
    svc.clock.set(at(D(2023, 4, 21)))
    await svc.client.post(f"/v1/issues/{other['id']}/close", json={"evidence": ["https://a.cn/1"]})

    async def ids(path: str, **params: Any) -> list[str]:
        response = await svc.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert len(await ids("/v1/issues")) == 3
    assert await ids("/v1/issues", overdue="true") == [first["id"]]
    assert other["id"] not in await ids("/v1/issues", open="true")
    assert len(await ids("/v1/issues", unit="区自然资源局")) == 1
    assert len(await ids("/v1/projects/p1/issues")) == 2
    page = (await svc.client.get("/v1/issues", params={"limit": 2})).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await ids("/v1/issues", limit=2, cursor=page["next_cursor"])
    assert len(rest) == 1
    assert rest[0] not in [i["id"] for i in page["items"]]
    assert (await svc.client.get("/v1/projects/nope/issues")).status_code == 404


async def test_the_list_filters_by_park_status_and_late_closure(svc: Milestones) -> None:
    await svc.register("p3", name="龙湖商业综合体", park="龙湖")
    wutong = await raise_issue(svc, raised_on="2023-04-03")  # due 04-13 (清明 off)
    fengyang = await raise_issue(svc, "p2", raised_on="2023-04-03")
    longhu = await raise_issue(svc, "p3")
    on_time = await raise_issue(svc, "p3", raised_on="2023-04-20")
    evidence = {"evidence": ["https://a.cn/1"]}
    await svc.client.post(f"/v1/issues/{fengyang['id']}/close", json=evidence)  # 8 days late
    await svc.client.post(f"/v1/issues/{on_time['id']}/close", json=evidence)

    async def ids(**params: Any) -> set[str]:
        response = await svc.client.get("/v1/issues", params=params)
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    assert await ids(park="梧桐") == {wutong["id"]}
    assert await ids(park=["梧桐", "龙湖"]) == {wutong["id"], longhu["id"], on_time["id"]}
    assert await ids(park="城关") == set()
    assert await ids(status="open") == {wutong["id"], longhu["id"]}
    assert await ids(status="closed") == {fengyang["id"], on_time["id"]}
    assert await ids(status="closed", park="龙湖") == {on_time["id"]}
    # Late: open past the due day today, or closed after it (the closed tab's "overdue").
    assert await ids(overdue="true") == {wutong["id"]}
    assert await ids(status="open", overdue="true") == {wutong["id"]}
    assert await ids(status="closed", overdue="true") == {fengyang["id"]}
    row = (await svc.client.get("/v1/issues", params={"park": "枫杨"})).json()["items"][0]
    assert (row["park"], row["project_name"], row["overdue_days"]) == ("枫杨", "枫杨新材料", 8)
    got = (await svc.client.get(f"/v1/issues/{longhu['id']}")).json()
    assert (got["park"], got["project_name"]) == ("龙湖", "龙湖商业综合体")


async def test_an_issue_is_overdue_only_after_its_working_day_due_day(svc: Milestones) -> None:
    # Raised 2023-04-21 (Friday): 7 working days count the 调休 Sunday 04-23 and skip the Labour
    # Day holiday, so it is due on Thursday 05-04 and late from 05-05 on.
    issue = await raise_issue(svc)
    assert issue["due_on"] == "2023-05-04"
    for day, late in ((D(2023, 5, 4), False), (D(2023, 5, 5), True)):
        svc.clock.set(at(day))
        found = await svc.client.get("/v1/issues", params={"overdue": "true"})
        assert [i["id"] for i in found.json()["items"]] == ([issue["id"]] if late else [])


async def test_order_due_pages_through_ties_by_id_and_carries_feedback(svc: Milestones) -> None:
    # Three due on the same day (a tie broken by id), one earlier, one later.
    same = [await raise_issue(svc, raised_on="2023-04-10") for _ in range(3)]
    early = await raise_issue(svc, raised_on="2023-04-03")
    late = await raise_issue(svc, raised_on="2023-04-17")
    await svc.client.post(f"/v1/issues/{same[1]['id']}/feedback", json={"text": "已对接"})
    await svc.client.post(f"/v1/issues/{same[1]['id']}/feedback", json={"text": "已上报"})
    expected = [early["id"], *sorted(i["id"] for i in same), late["id"]]
    for limit in (1, 2, 4, 5, 6):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"order": "due", "limit": limit, "feedback": "true"}
            if cursor:
                params["cursor"] = cursor
            page = (await svc.client.get("/v1/issues", params=params)).json()
            assert len(page["items"]) <= limit
            seen += [i["id"] for i in page["items"]]
            for item in page["items"]:
                texts = ["已对接", "已上报"] if item["id"] == same[1]["id"] else []
                assert [f["text"] for f in item["feedback"]] == texts
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, limit
    plain = (await svc.client.get("/v1/issues", params={"order": "due"})).json()["items"]
    assert all(i["feedback"] == [] for i in plain)  # only asked for


async def test_bad_list_filters_are_refused_naming_the_field(svc: Milestones) -> None:
    await raise_issue(svc)
    await raise_issue(svc)
    status = refused(
        await svc.client.get("/v1/issues", params={"status": "done"}), ["query.status"]
    )
    assert "应为" in status["errors"][0]["reason"]  # Chinese first
    refused(await svc.client.get("/v1/issues", params={"order": "name"}), ["query.order"])
    refused(await svc.client.get("/v1/issues", params={"overdue": "maybe"}), ["query.overdue"])
    refused(await svc.client.get("/v1/issues", params={"park": ""}), ["query.park.0"])
    both = refused(
        await svc.client.get("/v1/issues", params={"open": "true", "status": "closed"}),
        ["query.status"],
    )
    assert both["detail"] == "open=true 与 status=closed 矛盾"
    assert both["errors"][0]["reason"] == "与 open=true 矛盾（open=true 即 status=open）"
    both_en = refused(
        await svc.client.get(
            "/v1/issues",
            params={"open": "true", "status": "closed"},
            headers={"Accept-Language": "en"},
        ),
        ["query.status"],
    )
    assert both_en["detail"] == "open=true contradicts status=closed"
    assert both_en["errors"][0]["reason"] == "contradicts open=true (open=true means status=open)"
    created = (await svc.client.get("/v1/issues", params={"limit": 1})).json()["next_cursor"]
    refused(
        await svc.client.get("/v1/issues", params={"order": "due", "cursor": created}),
        ["cursor"],
    )


async def test_an_issue_without_a_unit_or_due_before_raised_is_refused_in_chinese(
    svc: Milestones,
) -> None:
    body = refused(
        await svc.client.post("/v1/projects/p1/issues", json=issue_body(assigned_unit="")),
        ["assigned_unit"],
    )
    assert "责任单位" in body["errors"][0]["reason"]
    assert "责任单位" in body["detail"]
    missing = issue_body()
    del missing["assigned_unit"]
    refused(await svc.client.post("/v1/projects/p1/issues", json=missing), ["assigned_unit"])
    early = refused(
        await svc.client.post(
            "/v1/projects/p1/issues", json=issue_body(raised_on="2023-04-20", due_on="2023-04-19")
        ),
        ["due_on"],
    )
    assert "早于交办日期" in early["errors"][0]["reason"]
    english = refused(
        await svc.client.post(
            "/v1/projects/p1/issues",
            json=issue_body(due_on="2023-04-01"),
            headers={"Accept-Language": "en"},
        ),
        ["due_on"],
    )
    assert "before raised_on" in english["errors"][0]["reason"]
    far = refused(
        await svc.client.post("/v1/projects/p1/issues", json=issue_body(due_on="9999-12-31")),
        ["due_on"],
    )
    assert "9999" in far["errors"][0]["reason"]
    ancient = refused(
        await svc.client.post("/v1/projects/p1/issues", json=issue_body(raised_on="1900-01-02")),
        ["raised_on"],
    )
    assert "工作日历不含 1900 年" in ancient["errors"][0]["reason"]
    assert await svc.events("sanpi.assigned_issue") == []


async def test_closing_without_evidence_and_feedback_on_a_closed_issue_are_refused(
    svc: Milestones,
) -> None:
    iid = (await raise_issue(svc))["id"]
    bare = refused(await svc.client.post(f"/v1/issues/{iid}/close", json={}), ["evidence"])
    assert "佐证" in bare["errors"][0]["reason"]
    refused(await svc.client.post(f"/v1/issues/{iid}/close", json={"evidence": [""]}), ["evidence"])
    ok = await svc.client.post(f"/v1/issues/{iid}/close", json={"evidence": ["https://a.cn/1"]})
    assert ok.status_code == 200, ok.text
    late = refused(
        await svc.client.post(f"/v1/issues/{iid}/feedback", json={"text": "补充说明"}),
        ["issue_id"],
    )
    assert "已于 2023-04-21 销号" in late["errors"][0]["reason"]
    refused(
        await svc.client.post(f"/v1/issues/{iid}/close", json={"evidence": ["https://a.cn/2"]}),
        ["issue_id"],
    )
    assert (
        await svc.client.post("/v1/issues/nope/feedback", json={"text": "x"})
    ).status_code == 404


async def test_an_operator_writes_only_the_issues_of_its_park(svc: Milestones) -> None:
    mine = await svc.client.post(
        "/v1/projects/p1/issues", json=issue_body(), headers=operator("梧桐")
    )
    assert mine.status_code == 201, mine.text
    foreign = await svc.client.post(
        "/v1/projects/p2/issues", json=issue_body(), headers=operator("梧桐")
    )
    assert foreign.status_code == 403
    other = await raise_issue(svc, "p2")
    answer = await svc.client.post(
        f"/v1/issues/{other['id']}/feedback", json={"text": "x"}, headers=operator("梧桐")
    )
    assert answer.status_code == 403


EVIDENCE = {"evidence": ["https://oa.example.cn/批复/2023-051.pdf"]}


async def test_a_stale_version_is_refused_naming_it_and_the_current_one_goes(
    svc: Milestones,
) -> None:
    issue = await raise_issue(svc)
    iid = issue["id"]
    read = await svc.client.get(f"/v1/issues/{iid}")
    assert (read.headers["ETag"], read.json()["version"], issue["version"]) == ('"1"', 1, 1)
    # Two officials read version 1: the first one's feedback goes and makes it version 2 …
    first = await svc.client.post(
        f"/v1/issues/{iid}/feedback", json={"text": "已上报市公司"}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 201, first.text
    assert (first.headers["ETag"], first.json()["version"]) == ('"2"', 2)
    # … the other's closing on version 1 is refused, naming both versions (Chinese first).
    stale = await svc.client.post(
        f"/v1/issues/{iid}/close", json=EVIDENCE, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert (
        stale.json()["detail"]
        == "交办事项已被他人修改：当前是第 2 版，不是第 1 版；请重新读取后再提交"
    )
    assert stale.json()["current_version"] == 2
    # The version read into the body: 409, in English when asked.
    in_body = await svc.client.post(
        f"/v1/issues/{iid}/feedback",
        json={"text": "补充说明", "version": 1},
        headers={"Accept-Language": "en"},
    )
    assert in_body.status_code == 409, in_body.text
    assert in_body.json()["detail"] == (
        "the assigned issue is at version 2, not 1; fetch it again and retry"
    )
    state = (await svc.client.get(f"/v1/issues/{iid}")).json()
    assert (state["status"], state["version"], [f["text"] for f in state["feedback"]]) == (
        "IN_PROGRESS",
        2,
        ["已上报市公司"],
    )
    # The current version goes, either way; the list shows the version too.
    closed = await svc.client.post(f"/v1/issues/{iid}/close", json={**EVIDENCE, "version": 2})
    assert closed.status_code == 200, closed.text
    assert (closed.headers["ETag"], closed.json()["status"]) == ('"3"', "CLOSED")
    listed = (await svc.client.get("/v1/issues")).json()["items"]
    assert [(i["id"], i["version"]) for i in listed] == [(iid, 3)]
    assert len(await svc.events("sanpi.assigned_issue.feedback_added")) == 1
    assert len(await svc.events("sanpi.assigned_issue.closed")) == 1
    # Without a version the write is not checked (clients from before versions).
    other = (await raise_issue(svc))["id"]
    unchecked = await svc.client.post(f"/v1/issues/{other}/feedback", json={"text": "收到"})
    assert (unchecked.status_code, unchecked.json()["version"]) == (201, 2)
    bad = await svc.client.post(
        f"/v1/issues/{other}/close", json=EVIDENCE, headers={"If-Match": "two"}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["header.If-Match"]


async def test_two_writes_of_one_version_at_once_one_goes_the_other_is_refused(
    svc: Milestones,
) -> None:
    # Both officials read version 1 and send at the same moment: the issue's row is locked by
    # the first write (PostgreSQL; SQLite's writers queue), so the second reads version 2.
    iid = (await raise_issue(svc))["id"]
    feedback, closing = await asyncio.gather(
        svc.client.post(
            f"/v1/issues/{iid}/feedback", json={"text": "已协调"}, headers={"If-Match": '"1"'}
        ),
        svc.client.post(f"/v1/issues/{iid}/close", json=EVIDENCE, headers={"If-Match": '"1"'}),
    )
    statuses = sorted([feedback.status_code, closing.status_code])
    assert statuses in ([201, 412], [200, 412]), (feedback.text, closing.text)
    refused_one = feedback if feedback.status_code == 412 else closing
    assert "当前是第 2 版，不是第 1 版" in refused_one.json()["detail"]
    state = (await svc.client.get(f"/v1/issues/{iid}")).json()
    assert state["version"] == 2
    written = await svc.events("sanpi.assigned_issue.feedback_added")
    written += await svc.events("sanpi.assigned_issue.closed")
    assert len(written) == 1
