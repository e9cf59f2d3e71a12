"""督办 as a loop, in-process on a FixedClock: the contact book (admin-managed, at least one
address), an escalated red alert opening an item for its unit's contact (who gets it on a 企业微信
robot that checks the vendor's schema), the response, the closure, and an overdue item climbing
the ladder. Due times are in working days."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import Severity
from sanpi.kit import Role
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.supervision import service as supervision
from tests.conftest import free_port
from tests.support.apps import auth
from tests.support.notification import Harness, SmtpServer, SmtpSink, alert, harness
from tests.support.robots import DingtalkReceiver, WecomReceiver
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

UNIT = "梧桐园区运营中心"
MOBILE = "13800138000"
LEADER_MAIL = "liming@district.example.cn"


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()


@pytest.fixture
def wecom() -> Iterator[WecomReceiver]:
    with WecomReceiver() as receiver:
        assert isinstance(receiver, WecomReceiver)
        yield receiver


@pytest.fixture
async def h(tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Harness]:
    async with harness(tmp_path, smtp_port=smtp.port) as running:
        yield running


async def add_contact(h: Harness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/contacts", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def items(h: Harness, **params: Any) -> list[dict[str, Any]]:
    response = await h.client.get("/v1/supervision", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


# --- the contact book ------------------------------------------------------------------------


async def test_a_contact_without_any_address_is_refused_in_chinese_naming_the_fields(
    h: Harness,
) -> None:
    response = await h.client.post("/v1/contacts", json={"name": "王建国", "unit": UNIT})
    assert response.status_code == 422
    problem = response.json()
    assert "联系人至少需要一个联系方式" in problem["detail"]
    fields = {e["field"] for e in problem["errors"]}
    assert {"wecom_mobile", "wecom_robot_url", "email", "feishu_robot_url"} <= fields
    listed = (await h.client.get("/v1/contacts")).json()["items"]
    assert listed == []


async def test_contact_refusals_read_in_the_readers_language(h: Harness) -> None:
    # Chinese unless the request asks for English; never both in one text.
    missing = await h.client.get("/v1/contacts/nobody")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "联系人 nobody 不存在"
    english = await h.client.get("/v1/contacts/nobody", headers={"Accept-Language": "en"})
    assert english.json()["detail"] == "contact nobody not found"
    bare = {"name": "王建国", "unit": UNIT}
    refused = await h.client.post("/v1/contacts", json=bare, headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("a contact needs at least one address: wecom_mobile")
    [reason] = [e["reason"] for e in refused.json()["errors"] if e["field"] == "email"]
    assert reason == "give at least one address (email or another)"
    bad_mail = {**bare, "email": "wang-at-wutong"}
    zh = await h.client.post("/v1/contacts", json=bad_mail)
    en = await h.client.post("/v1/contacts", json=bad_mail, headers={"Accept-Language": "en"})
    assert [e["reason"] for e in zh.json()["errors"]] == ["不是有效的电子邮箱地址"]
    assert [e["reason"] for e in en.json()["errors"]] == ["not an e-mail address"]


async def test_contact_addresses_are_checked_per_channel(h: Harness) -> None:
    bad = [
        ({"wecom_mobile": "1380013800"}, "wecom_mobile"),  # ten digits
        ({"email": "wang-at-wutong"}, "email"),
        (
            {"wecom_robot_url": "https://oapi.dingtalk.com/robot/send?access_token=x"},
            "wecom_robot_url",
        ),
        (
            {"dingtalk_robot_url": "https://oapi.dingtalk.com/robot/send?access_token=x"},
            "dingtalk_secret",
        ),
    ]
    for body, field in bad:
        response = await h.client.post(
            "/v1/contacts", json={"name": "王建国", "unit": UNIT, **body}
        )
        assert response.status_code == 422, body
        assert field in {e["field"] for e in response.json()["errors"]}, response.text


async def test_the_contact_book_is_the_admins_and_keeps_secrets_sealed(h: Harness) -> None:
    dingtalk = DingtalkReceiver(secret="SEC" + "a" * 60)
    created = await add_contact(
        h,
        name="王建国",
        unit=UNIT,
        park="梧桐",
        dingtalk_robot_url=dingtalk.url,
        dingtalk_secret=dingtalk.secret,
    )
    assert created["has_dingtalk_secret"] is True
    assert "dingtalk_secret" not in created
    operator = auth(Role.OPERATOR, subject="zhang", parks=("梧桐",))
    forbidden = await h.client.post(
        "/v1/contacts", json={"name": "张三", "unit": UNIT, "email": "z@x.cn"}, headers=operator
    )
    assert forbidden.status_code == 403
    listed = await h.client.get("/v1/contacts", params={"unit": UNIT}, headers=operator)
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    viewer = auth(Role.VIEWER, subject="v")
    assert (await h.client.get("/v1/contacts", headers=viewer)).status_code == 403

    # Clearing the only address is refused; replacing it is not.
    cleared = await h.client.patch(
        f"/v1/contacts/{created['id']}", json={"dingtalk_robot_url": None}
    )
    assert cleared.status_code == 422
    changed = await h.client.patch(
        f"/v1/contacts/{created['id']}", json={"email": "wang@wutong.example.cn"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    gone = await h.client.delete(f"/v1/contacts/{created['id']}")
    assert gone.status_code == 204
    assert (await h.client.get(f"/v1/contacts/{created['id']}")).status_code == 404


# --- the loop --------------------------------------------------------------------------------


async def test_an_escalated_red_alert_opens_an_item_the_unit_answers_and_an_official_closes(
    h: Harness, sink: WebhookSink, wecom: WecomReceiver
) -> None:
    contact = await add_contact(
        h, name="王建国", unit=UNIT, park="梧桐", wecom_robot_url=wecom.url, wecom_mobile=MOBILE
    )
    sub = await h.client.post("/v1/subscriptions", json={"channel": "webhook", "url": sink.url})
    assert sub.status_code == 201
    raised = alert(Severity.RED)
    await h.feed(raised)
    await eventually(lambda: len(sink.accepted()) == 1, what="the red alert")
    assert await items(h) == []

    # Friday 10:00 in Shanghai + 10 working minutes: the first escalation step opens the item.
    h.clock.advance(dt.timedelta(minutes=10))
    [opened] = await eventually(
        lambda: h.outbox("sanpi.notification.supervision_opened.v1"), what="item opened"
    )
    assert opened["alert_key"] == raised.alert_key
    assert opened["unit"] == UNIT
    assert opened["park"] == "梧桐"
    assert opened["contact_id"] == contact["id"]
    assert opened["contact_name"] == "王建国"
    assert opened["level"] == 1
    # 3 working days from Friday 10:10 is Wednesday 10:10: the weekend does not count.
    assert opened["due_at"] == "2023-09-06T02:10:00Z"

    # The contact gets it on their unit's 企业微信 robot, @-mentioned by mobile.
    [got] = await eventually(wecom.got, what="the 督办 message on WeCom")
    assert got.body["msgtype"] == "text"
    assert got.body["text"]["mentioned_mobile_list"] == [MOBILE]
    content = got.body["text"]["content"]
    assert content.startswith("【督办·第1级】雄韬氢能产业园：签约后未开工")
    assert "请于2023-09-06 10:10前反馈整改说明" in content
    assert opened["item_id"] in content
    assert wecom.refused == []

    [listed] = await items(h, unit=UNIT, park="梧桐")
    assert listed["id"] == opened["item_id"]
    assert listed["status"] == "open"
    assert listed["overdue"] is False
    assert listed["project_name"] == "雄韬氢能产业园"
    assert await items(h, park="石佛") == []
    assert await items(h, unit="别的单位") == []

    # Another park's operator may not answer; the unit's may.
    url = f"/v1/supervision/{listed['id']}"
    other = auth(Role.OPERATOR, subject="op", parks=("石佛",))
    refused = await h.client.post(f"{url}/respond", json={"response": "x"}, headers=other)
    assert refused.status_code == 403
    empty = await h.client.post(f"{url}/respond", json={"response": ""})
    assert empty.status_code == 422
    unit_operator = auth(Role.OPERATOR, subject="wangjg", parks=("梧桐",))
    answer = "已约谈企业，承诺9月30日前完成设备进场并开工"
    responded = await h.client.post(
        f"{url}/respond", json={"response": answer}, headers=unit_operator
    )
    assert responded.status_code == 200, responded.text
    assert responded.json()["status"] == "responded"
    [event] = await h.outbox("sanpi.notification.supervision_responded.v1")
    assert event["response"] == answer
    assert event["responded_by"] == "wangjg"
    assert event["responded_at"] == "2023-09-01T02:10:00Z"

    closed = await h.client.post(f"{url}/close", json={"note": "整改到位，同意办结"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_by"] == "officer"
    [event] = await h.outbox("sanpi.notification.supervision_closed.v1")
    assert event["closed_by"] == "officer"
    assert event["note"] == "整改到位，同意办结"
    assert await items(h) == []
    assert [i["id"] for i in await items(h, status="closed")] == [listed["id"]]
    late = await h.client.post(f"{url}/respond", json={"response": "again"})
    assert late.status_code == 409
    assert late.json()["detail"] == f"督办事项 {listed['id']} 已办结，不能再反馈"
    late_en = await h.client.post(
        f"{url}/respond", json={"response": "again"}, headers={"Accept-Language": "en"}
    )
    assert late_en.json()["detail"] == (
        f"supervision item {listed['id']} is closed; it takes no more responses"
    )

    # The ladder climbing on (level 2 at 20 working minutes) opens no second item for this red
    # episode: the official closed it.
    h.clock.advance(dt.timedelta(minutes=10))

    async def level_two() -> bool:
        return len(await h.outbox("sanpi.notification.escalated.v1")) == 2

    await eventually(level_two, what="level 2")
    assert len(await h.outbox("sanpi.notification.supervision_opened.v1")) == 1


async def test_an_item_unanswered_by_its_due_time_goes_up_the_ladder(
    h: Harness, sink: WebhookSink, wecom: WecomReceiver, smtp: SmtpSink
) -> None:
    await add_contact(h, name="王建国", unit=UNIT, wecom_robot_url=wecom.url)
    await add_contact(h, name="李明", unit="区发改委", email=LEADER_MAIL)
    await h.client.post("/v1/subscriptions", json={"channel": "webhook", "url": sink.url})
    await h.feed(alert(Severity.RED))
    h.clock.advance(dt.timedelta(minutes=10))
    [opened] = await eventually(
        lambda: h.outbox("sanpi.notification.supervision_opened.v1"), what="item opened"
    )
    await eventually(wecom.got, what="the 督办 message")
    await h.client.post(f"/v1/alerts/{opened['alert_key']}/ack")  # acknowledged, not answered

    # A minute before its due time (Wednesday 10:09) it is not overdue; at 10:10 it is.
    settings = h.runtime.settings
    assert isinstance(settings, NotificationSettings)
    due = dt.datetime.fromisoformat(opened["due_at"])
    before = due - dt.timedelta(minutes=1)
    assert await supervision.run_overdue(h.runtime.db, now=before, settings=settings) == 0
    assert await h.outbox("sanpi.notification.supervision_overdue.v1") == []

    # Wednesday 10:10: due. It climbs to level 2, the alert's sponsor leader 李明, by e-mail.
    h.clock.set(due)
    [overdue] = await eventually(
        lambda: h.outbox("sanpi.notification.supervision_overdue.v1"), what="overdue"
    )
    assert overdue["item_id"] == opened["item_id"]
    assert overdue["level"] == 2
    assert overdue["contact_name"] == "李明"
    assert overdue["was_due_at"] == "2023-09-06T02:10:00Z"
    assert overdue["due_at"] == "2023-09-11T02:10:00Z"  # Wednesday + 3 working days: Monday
    assert overdue["overdue_count"] == 1
    [mail] = await eventually(lambda: smtp.to(LEADER_MAIL), what="the leader's e-mail")
    assert mail["Subject"].startswith("【督办·第2级·逾期第1次】雄韬氢能产业园")
    [item] = await items(h)
    assert (item["level"], item["contact_name"], item["status"]) == (2, "李明", "open")

    # Answering stops it going overdue again.
    await h.client.post(f"/v1/supervision/{item['id']}/respond", json={"response": "已整改"})
    later = due + dt.timedelta(days=30)
    assert await supervision.run_overdue(h.runtime.db, now=later, settings=settings) == 0
    assert len(await h.outbox("sanpi.notification.supervision_overdue.v1")) == 1
