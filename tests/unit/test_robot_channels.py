"""The 企业微信, 钉钉 and 飞书 robot channels against local receivers that check each vendor's
documented signature, schema and rate limit (tests/support/robots.py): the notification app
in-process, its real delivery worker, a red alert fed to its consumer."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from sanpi.events import AlertUpdated, Severity
from sanpi.notification.channels import http, plugins
from sanpi.notification.channels.base import Context
from sanpi.notification.channels.inbox import InboxChannel
from sanpi.notification.channels.result import AttemptResult, Outcome
from sanpi.notification.channels.templates import Kind, Message, render
from sanpi.notification.delivery import jobs
from sanpi.notification.delivery.service import Claimed
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions.models import Subscription
from tests.support.notification import Harness, alert, harness
from tests.support.robots import (
    DingtalkReceiver,
    FeishuReceiver,
    RobotReceiver,
    WecomReceiver,
    shown_text,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio

PORTAL = "https://sanpi.example.cn"
MOBILE = "13800000001"


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, portal_url=PORTAL) as running:
        yield running


@pytest.fixture
def receivers() -> Iterator[dict[str, RobotReceiver]]:
    started: dict[str, RobotReceiver] = {
        "wecom": WecomReceiver().start(),
        "dingtalk": DingtalkReceiver().start(),
        "feishu": FeishuReceiver().start(),
    }
    yield started
    for receiver in started.values():
        receiver.stop()


def robot_body(channel: str, receiver: RobotReceiver, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": channel, "url": receiver.url, **extra}
    if channel != "wecom":
        body.setdefault("secret", receiver.secret)
    return body


async def subscribe(h: Harness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_red_alert_reaches_each_robot_once_signed_and_in_the_vendors_format(
    h: Harness, receivers: dict[str, RobotReceiver]
) -> None:
    for channel, receiver in receivers.items():
        mentions = [MOBILE] if channel != "feishu" else []
        sub = await subscribe(h, **robot_body(channel, receiver, mention_mobiles=mentions))
        assert sub["secret"] is None, "a robot's secret is never shown back"
    red = alert(Severity.RED, park="梧桐")
    await h.feed(red)

    for channel, receiver in receivers.items():
        [got] = await eventually(receiver.got, what=f"the {channel} message")
        assert receiver.refused == []
        text = shown_text(got)
        for expected in (
            "雄韬氢能产业园",
            "梧桐",
            "R02 签约后未开工",
            "红色",
            "新触发红色预警",
            f"{PORTAL}/projects/{red.project_id}",
        ):
            assert expected in text, (channel, expected, text)
    wecom = receivers["wecom"].got()[0].body
    assert wecom["msgtype"] == "text"
    assert wecom["text"]["mentioned_mobile_list"] == [MOBILE]
    ding = receivers["dingtalk"].got()[0]
    assert ding.body["msgtype"] == "markdown"
    assert ding.body["at"] == {"atMobiles": [MOBILE], "isAtAll": False}
    assert f"@{MOBILE}" in ding.body["markdown"]["text"]
    card = receivers["feishu"].got()[0].body
    assert card["msg_type"] == "interactive"
    assert card["card"]["header"]["template"] == "red"

    async def delivered() -> list[dict[str, Any]]:
        found = await h.deliveries()
        return found if all(d["status"] == "DELIVERED" for d in found) else []

    assert len(await eventually(delivered, what="three deliveries recorded")) == 3
    assert [len(r.got()) for r in receivers.values()] == [1, 1, 1]


async def test_yellow_goes_as_wecom_markdown_and_dingtalk_action_card_in_english_on_request(
    h: Harness, receivers: dict[str, RobotReceiver]
) -> None:
    for channel, receiver in receivers.items():
        await subscribe(h, **robot_body(channel, receiver, language="en"))
    updated = AlertUpdated(
        **alert(Severity.YELLOW).model_dump(exclude={"severity"}),
        severity=Severity.ORANGE,
        previous_severity=Severity.YELLOW,
    )
    await h.feed(updated)
    h.clock.advance(dt.timedelta(seconds=10))  # the grouping window of a non-red alert closes
    [wecom] = await eventually(receivers["wecom"].got, what="wecom")
    [ding] = await eventually(receivers["dingtalk"].got, what="dingtalk")
    [lark] = await eventually(receivers["feishu"].got, what="feishu")
    assert wecom.body["msgtype"] == "markdown"
    assert '<font color="warning">ORANGE</font>' in wecom.body["markdown"]["content"]
    assert "YELLOW to ORANGE" in wecom.body["markdown"]["content"]
    assert ding.body["msgtype"] == "actionCard"
    assert ding.body["actionCard"]["singleURL"] == f"{PORTAL}/projects/{updated.project_id}"
    assert ding.body["actionCard"]["singleTitle"] == "Open the project in the portal"
    assert lark.body["card"]["header"]["template"] == "orange"
    assert "**Rule**：R02 signed but not started" in shown_text(lark)


async def test_a_refused_signature_is_retried_and_shown_on_the_subscriptions_health(
    tmp_path: Path,
) -> None:
    async with (
        harness(tmp_path, delivery_max_attempts=3, endpoint_disable_min_failures=2) as h,
    ):
        with DingtalkReceiver() as receiver, FeishuReceiver() as lark:
            ding = await subscribe(h, **robot_body("dingtalk", receiver, secret="SECwrong"))
            bad = await subscribe(h, **robot_body("feishu", lark, secret="wrong"))
            await h.feed(alert(Severity.RED))

            async def dead() -> list[dict[str, Any]]:
                h.clock.advance(dt.timedelta(seconds=1))  # retries are due on the service's clock
                found = await h.deliveries()
                return (
                    found if len(found) == 2 and all(d["status"] == "DEAD" for d in found) else []
                )

            deliveries = await eventually(dead, what="both dead letters after 3 attempts")
            assert receiver.got() == []
            assert lark.got() == []
            assert [code for code, _ in receiver.refused] == [310000] * 3
            assert [code for code, _ in lark.refused] == [19021] * 3
            for delivery in deliveries:
                assert len(delivery["attempt_log"]) == 3, "a bad signature is retried"
            for sub in (ding, bad):
                health = (await h.client.get(f"/v1/subscriptions/{sub['id']}")).json()
                assert health["active"] is True, "a bad signature disables nothing by itself"
                assert health["consecutive_failures"] == 3
                assert "signature refused" in health["last_error"]
            assert (
                "errcode 310000"
                in (await h.client.get(f"/v1/subscriptions/{ding['id']}")).json()["last_error"]
            )


async def test_more_than_twenty_a_minute_wait_in_the_queue_and_none_is_dropped(
    h: Harness,
) -> None:
    with WecomReceiver() as receiver:
        await subscribe(h, channel="wecom", url=receiver.url)
        for _ in range(25):
            await h.feed(alert(Severity.RED))
        await eventually(lambda: len(receiver.got()) == 20, what="the first twenty")

        async def waiting() -> list[dict[str, Any]]:
            # Deferred: back in the queue, held until the robot's window frees a slot, with its
            # attempt given back (a claimed one reads PENDING with one attempt until its result
            # is recorded).
            found = await h.deliveries(status="PENDING")
            deferred = [d for d in found if d["deferred_until"] and d["attempts"] == 0]
            return found if len(found) == len(deferred) == 5 else []

        held = await eventually(waiting, what="five held back")
        assert receiver.refused == [], "the vendor's limit is never hit"
        for delivery in held:
            assert delivery["attempts"] == 0
            assert delivery["attempt_log"] == []


async def test_robot_errors_in_a_200_answer_are_classified(tmp_path: Path) -> None:
    settings = NotificationSettings(
        data_dir=tmp_path, kafka_enabled=False, allow_loopback_targets=True, portal_url=PORTAL
    )
    message = render(Kind.EVENT, [_event(alert(Severity.RED))], language="zh")
    async with http.client(timeout_s=5, max_connections=2, policy=settings.egress) as client:
        ctx = Context(client, settings)
        with WecomReceiver() as receiver:
            outgoing = _Outgoing(receiver.url, message=message)
            cases = {93000: Outcome.GIVE_UP, 45009: Outcome.RETRY, -1: Outcome.RETRY}
            receiver.script.extend(cases)
            results = [await plugins.of("wecom").deliver(outgoing, ctx) for _ in cases]
            assert [r.outcome for r in results] == list(cases.values())
            assert results[1].retry_after_s == 60.0
            assert "errcode 93000" in (results[0].error or "")
            assert (await plugins.of("wecom").deliver(outgoing, ctx)).delivered


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (
            {
                "channel": "dingtalk",
                "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                "secret": "SECx",
            },
            "url",
            "不是钉钉机器人的 Webhook 地址",
        ),
        (
            {"channel": "wecom", "url": "https://oapi.dingtalk.com/robot/send?access_token=t"},
            "url",
            "不是企业微信机器人的 Webhook 地址",
        ),
        (
            {
                "channel": "feishu",
                "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef12-3456",
            },
            "secret",
            "飞书机器人需要填写安全设置中的签名密钥",
        ),
        (
            {"channel": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t"},
            "secret",
            "钉钉机器人需要填写",
        ),
        (
            {
                "channel": "dingtalk",
                "url": "https://oapi.dingtalk.com/robot/send",
                "secret": "SECx",
            },
            "url",
            "缺少 access_token",
        ),
        (
            {
                "channel": "wecom",
                "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                "mention_mobiles": ["12345"],
            },
            "mention_mobiles.0",
            "不是11位手机号码",
        ),
        ({"channel": "wecom"}, "url", "企业微信机器人渠道必须填写"),
        (
            {"channel": "webhook", "url": "https://example.cn/hook", "secret": "mine"},
            "secret",
            "webhook 渠道不使用此字段",
        ),
    ],
)
async def test_bad_robot_subscriptions_are_422_naming_the_field_in_chinese(
    h: Harness, body: dict[str, Any], field: str, says: str
) -> None:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]]
    assert says in problem["detail"]
    assert f"「{field}」：" in problem["detail"]


async def test_a_robot_refusal_reads_in_english_when_asked(h: Harness) -> None:
    # Catalogued, not written "中文（English）": one language per answer.
    body = {"channel": "wecom", "url": "https://oapi.dingtalk.com/robot/send?access_token=t"}
    chinese = (await h.client.post("/v1/subscriptions", json=body)).json()
    [reason] = [e["reason"] for e in chinese["errors"] if e["field"] == "url"]
    assert reason == (
        "不是企业微信机器人的 Webhook 地址，应形如 "
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    )
    english = await h.client.post("/v1/subscriptions", json=body, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    [reason] = [e["reason"] for e in english.json()["errors"] if e["field"] == "url"]
    assert reason.startswith("not a WeCom robot URL; it looks like https://qyapi.weixin.qq.com/")
    assert not re.search(r"[\u4e00-\u9fff]", english.json()["detail"])


async def test_a_loopback_robot_url_needs_the_settings_switch(tmp_path: Path) -> None:
    with WecomReceiver() as receiver:
        async with harness(tmp_path, allow_loopback_targets=False) as h:
            response = await h.client.post(
                "/v1/subscriptions", json={"channel": "wecom", "url": receiver.url}
            )
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "url"


async def test_a_robot_secret_is_stored_sealed_and_can_be_replaced(h: Harness) -> None:
    with DingtalkReceiver() as receiver:
        sub = await subscribe(h, **robot_body("dingtalk", receiver, secret="SECold"))
        async with h.runtime.db.read() as session:
            stored = (await session.exec(select(Subscription))).one()
        assert stored.secret is not None
        assert stored.secret.startswith("fernet:")
        assert "SECold" not in stored.secret
        patched = await h.client.patch(
            f"/v1/subscriptions/{sub['id']}", json={"secret": receiver.secret}
        )
        assert patched.status_code == 200, patched.text
        await h.feed(alert(Severity.RED))
        await eventually(receiver.got, what="signed with the new secret")
        assert receiver.refused == []


@dataclass
class _Outgoing:
    target: str
    message: Message
    delivery_id: str = "d-1"
    secrets: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    language: str = "zh"
    body: bytes = b""
    content_type: str = "application/json"


def _event(data: Any) -> dict[str, Any]:
    return {"type": data.TYPE, "data": json.loads(data.model_dump_json())}


async def test_a_channel_that_raises_fails_its_attempt_not_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(InboxChannel):
        def classify(self, sent: None) -> AttemptResult:
            raise RuntimeError("a bug in a channel")

    monkeypatch.setitem(plugins.PLUGINS, "inbox", Broken())
    settings = NotificationSettings(data_dir=tmp_path, kafka_enabled=False)
    message = render(Kind.EVENT, [_event(alert(Severity.RED))], language="zh")
    async with http.client(timeout_s=5, max_connections=2, policy=settings.egress) as client:
        claimed = Claimed(
            delivery_id="msg_1",
            subscription_id="s-1",
            attempt=1,
            channel="inbox",
            target="",
            secrets=[],
            mentions=[],
            language="zh",
            body=b"",
            content_type="application/json",
            message=message,
            event_ids=["e-1"],
            event_time=dt.datetime.now(dt.UTC),
            own_endpoint=True,
            lease_token="t",
        )
        result = await jobs.send(claimed, Context(client, settings))
    assert result.outcome is Outcome.RETRY
    assert result.error == "RuntimeError: a bug in a channel"
