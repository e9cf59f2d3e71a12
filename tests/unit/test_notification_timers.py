"""Time-driven notification behaviour on a FixedClock, in-process: grouping window, quiet hours,
repeats of red alerts, escalation on schedule, acknowledgement and resolution."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import AlertResolved, AlertUpdated, Severity
from sanpi.kit import Role
from tests.conftest import free_port
from tests.support.apps import auth
from tests.support.notification import Harness, SmtpServer, SmtpSink, alert, harness
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

# 23:00 in Shanghai: inside quiet hours 22:00-07:00.
SHANGHAI_11PM = dt.datetime(2023, 9, 1, 15, 0, tzinfo=dt.UTC)
UNIT_HEAD = "wang@wutong.example.cn"
LEADER = "li@district.example.cn"


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
async def h(tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Harness]:
    async with harness(tmp_path, smtp_port=smtp.port) as running:
        yield running


async def subscribe(h: Harness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bodies(sink: WebhookSink) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in sink.accepted()]


def sent(sink: WebhookSink, event_id: str) -> bool:
    return any(b.get("id") == event_id for b in bodies(sink))


async def test_forty_yellow_alerts_of_one_pass_for_one_park_are_one_message(
    h: Harness, sink: WebhookSink
) -> None:
    await subscribe(h, channel="webhook", url=sink.url, event_types=["sanpi.alert.*"])
    yellows = [await h.feed(alert(Severity.YELLOW, evaluation_id="pass-1")) for _ in range(40)]
    other_park = await h.feed(alert(Severity.YELLOW, evaluation_id="pass-1", park="石佛"))
    red = await h.feed(alert(Severity.RED, evaluation_id="pass-1"))

    # The red alert does not wait for the window; the yellow ones do.
    await eventually(lambda: [b for b in bodies(sink) if b.get("id") == red.id], what="red")
    assert len(sink.accepted()) == 1

    h.clock.advance(dt.timedelta(seconds=10))  # grouping_window_s
    await eventually(lambda: len(sink.accepted()) == 3, what="the two grouped messages")
    digest = next(b for b in bodies(sink) if b["type"] == "sanpi.notification.digest")
    assert [e["id"] for e in digest["events"]] == [y.id for y in yellows]
    assert digest["subject"] == "【黄色预警汇总】梧桐：本轮评估共 40 条预警"
    single = next(b for b in bodies(sink) if b.get("id") == other_park.id)
    assert single["type"] == "sanpi.alert.raised.v1"  # a group of one is the event itself
    [logged] = [d for d in await h.deliveries() if d["kind"] == "DIGEST"]
    assert len(logged["event_ids"]) == 40

    # A later pass is a new message, even for the same park.
    await h.feed(alert(Severity.YELLOW, evaluation_id="pass-2"))
    h.clock.advance(dt.timedelta(seconds=10))
    await eventually(lambda: len(sink.accepted()) == 4, what="next pass")


async def test_a_pass_consumed_slowly_is_still_one_message(
    tmp_path: Path, sink: WebhookSink
) -> None:
    # A busy consumer or a backlog after an outage: siblings arrive 8 s apart, each one restarts
    # the 10 s quiet period, and the whole pass leaves as one message.
    async with harness(tmp_path, grouping_window_s=10, grouping_max_s=20) as h:
        await subscribe(h, channel="webhook", url=sink.url, event_types=["sanpi.alert.*"])
        start = h.clock.now()
        first = await h.feed(alert(Severity.YELLOW, evaluation_id="slow"))
        h.clock.advance(dt.timedelta(seconds=8))
        second = await h.feed(alert(Severity.YELLOW, evaluation_id="slow"))
        [digest] = [d for d in await h.deliveries() if d["status"] == "PENDING"]
        assert dt.datetime.fromisoformat(digest["next_attempt_at"]) == start + dt.timedelta(
            seconds=18
        )
        h.clock.advance(dt.timedelta(seconds=8))
        third = await h.feed(alert(Severity.YELLOW, evaluation_id="slow"))
        [digest] = [d for d in await h.deliveries() if d["status"] == "PENDING"]
        # 16 s + 10 s would be 26 s: the 20 s cap after the first alert wins.
        assert dt.datetime.fromisoformat(digest["next_attempt_at"]) == start + dt.timedelta(
            seconds=20
        )
        h.clock.advance(dt.timedelta(seconds=4))
        await eventually(lambda: len(sink.accepted()) == 1, what="one message for the pass")
        [message] = bodies(sink)
        assert [e["id"] for e in message["events"]] == [first.id, second.id, third.id]


async def test_quiet_hours_hold_yellow_until_morning_and_let_red_through(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, at=SHANGHAI_11PM, grouping_window_s=0) as h:
        await subscribe(
            h, channel="webhook", url=sink.url, quiet_hours={"start": "22:00", "end": "07:00"}
        )
        yellow = await h.feed(alert(Severity.YELLOW))
        red = await h.feed(alert(Severity.RED))
        await eventually(lambda: sent(sink, red.id), what="red")
        [held] = [d for d in await h.deliveries() if d["event_id"] == yellow.id]
        assert held["status"] == "PENDING"
        assert held["held_until"] == "2023-09-01T23:00:00Z"  # 07:00 in Shanghai

        h.clock.set(dt.datetime(2023, 9, 1, 22, 59, tzinfo=dt.UTC))
        sentinel = await h.feed(alert(Severity.RED))  # once it is out, the worker saw 06:59
        await eventually(lambda: sent(sink, sentinel.id), what="sentinel")
        assert not sent(sink, yellow.id)

        h.clock.set(dt.datetime(2023, 9, 1, 23, 0, tzinfo=dt.UTC))
        await eventually(lambda: sent(sink, yellow.id), what="morning")


async def test_an_unacknowledged_red_alert_escalates_on_schedule(
    h: Harness, smtp: SmtpSink
) -> None:
    sub = await subscribe(
        h,
        channel="email",
        email="zhang@wutong.example.cn",
        escalation_contacts={"unit_head": UNIT_HEAD, "sponsor_leader": LEADER},
    )
    raised = alert(Severity.RED)
    await h.feed(raised)
    await eventually(lambda: smtp.to("zhang@wutong.example.cn"), what="owner e-mail")

    async def escalations() -> list[dict[str, Any]]:
        return await h.outbox("sanpi.notification.escalated.v1")

    h.clock.advance(dt.timedelta(seconds=599))  # escalation_delays = 10m, 20m, 30m of working time
    await eventually(lambda: h.runtime.clock.now() == h.clock.now())
    await eventually(lambda: smtp.to("zhang@wutong.example.cn"), what="timer tick")
    assert await escalations() == []

    h.clock.advance(dt.timedelta(seconds=1))
    [first] = await eventually(escalations, what="level 1")
    assert first["level"] == 1
    assert first["contact"] == UNIT_HEAD
    assert first["alert_key"] == raised.alert_key
    assert first["subscription_id"] == sub["id"]
    assert first["escalated_at"] == "2023-09-01T02:10:00Z"
    [mail] = await eventually(lambda: smtp.to(UNIT_HEAD), what="unit head e-mail")
    assert mail["Subject"].startswith("【督办·第1级】雄韬氢能产业园")

    h.clock.advance(dt.timedelta(seconds=600))
    await eventually(lambda: smtp.to(LEADER), what="sponsor leader e-mail")
    h.clock.advance(dt.timedelta(seconds=600))

    async def three() -> list[dict[str, Any]]:
        found = await escalations()
        return found if len(found) == 3 else []

    ladder = await eventually(three, what="level 3")
    assert [(e["level"], e["contact"]) for e in ladder] == [
        (1, UNIT_HEAD),
        (2, LEADER),
        (3, "区督查办"),  # no district contact given: the configured default
    ]
    h.clock.advance(dt.timedelta(days=30))
    await eventually(lambda: smtp.to("zhang@wutong.example.cn"), what="tick")
    assert len(await escalations()) == 3  # the top of the ladder


async def test_an_acknowledged_red_alert_neither_repeats_nor_escalates(
    h: Harness, smtp: SmtpSink
) -> None:
    await subscribe(
        h,
        channel="email",
        email="zhang@wutong.example.cn",
        escalation_contacts={"unit_head": UNIT_HEAD},
    )
    raised = alert(Severity.RED, park="梧桐")
    await h.feed(raised)
    await eventually(lambda: smtp.to("zhang@wutong.example.cn"), what="owner e-mail")

    other_park = auth(Role.OPERATOR, subject="op", parks=("石佛",))
    url = f"/v1/alerts/{raised.alert_key}/ack"
    assert (await h.client.post(url, headers=other_park)).status_code == 403
    assert (await h.client.post(url, headers=auth(Role.VIEWER))).status_code == 403
    assert (await h.client.post("/v1/alerts/R02:unknown/ack")).status_code == 404
    operator = auth(Role.OPERATOR, subject="zhang", parks=("梧桐",))
    acked = await h.client.post(url, headers=operator)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_by"] == "zhang"
    [ack_event] = await h.outbox("sanpi.notification.acknowledged.v1")
    assert ack_event["alert_key"] == raised.alert_key

    h.clock.advance(dt.timedelta(days=2))  # past every repeat and escalation delay
    await h.feed(alert(Severity.RED))  # a sentinel red alert: its e-mail proves time moved on
    await eventually(lambda: len(smtp.to("zhang@wutong.example.cn")) == 2, what="sentinel")
    assert await h.outbox("sanpi.notification.escalated.v1") == []
    assert smtp.to(UNIT_HEAD) == []
    assert [d["kind"] for d in await h.deliveries()] == ["EVENT", "EVENT"]


async def test_red_alerts_repeat_until_acknowledged(tmp_path: Path, sink: WebhookSink) -> None:
    async with harness(
        tmp_path, red_repeat_interval_s=60, escalation_delays=["300d", "400d", "500d"]
    ) as h:
        await subscribe(h, channel="webhook", url=sink.url)
        raised = alert(Severity.RED)
        await h.feed(raised)
        await eventually(lambda: len(sink.accepted()) == 1, what="first")
        h.clock.advance(dt.timedelta(seconds=60))
        await eventually(lambda: len(sink.accepted()) == 2, what="repeat 1")
        reminder = bodies(sink)[1]
        assert reminder["type"] == "sanpi.notification.repeat"
        assert reminder["alert_key"] == raised.alert_key
        assert reminder["subject"].startswith("【红色预警·第1次提醒】")
        h.clock.advance(dt.timedelta(seconds=60))
        await eventually(lambda: len(sink.accepted()) == 3, what="repeat 2")

        assert (await h.client.post(f"/v1/alerts/{raised.alert_key}/ack")).status_code == 200
        h.clock.advance(dt.timedelta(seconds=600))
        sentinel = await h.feed(alert(Severity.RED))
        await eventually(lambda: sent(sink, sentinel.id), what="sentinel")
        reminders = [b for b in bodies(sink) if b["type"] == "sanpi.notification.repeat"]
        assert [r["alert_key"] for r in reminders] == [raised.alert_key] * 2


async def test_a_resolved_alert_stops_everything(tmp_path: Path, sink: WebhookSink) -> None:
    async with harness(tmp_path, red_repeat_interval_s=60, at=SHANGHAI_11PM) as h:
        await subscribe(
            h, channel="webhook", url=sink.url, quiet_hours={"start": "22:00", "end": "07:00"}
        )
        red = alert(Severity.RED)
        yellow = alert(Severity.YELLOW)
        await h.feed(red)
        await h.feed(yellow)
        await eventually(lambda: len(sink.accepted()) == 1, what="red through quiet hours")
        fields = red.model_dump()
        await h.feed(AlertResolved(**fields, resolved_at=SHANGHAI_11PM))
        await h.feed(AlertResolved(**yellow.model_dump(), resolved_at=SHANGHAI_11PM))

        [cancelled] = [d for d in await h.deliveries() if d["status"] == "CANCELLED"]
        assert cancelled["alert_key"] == yellow.alert_key  # held overnight, never sent
        h.clock.advance(dt.timedelta(days=1))
        # Resolutions are not urgent: they wait for the morning too.
        await eventually(lambda: len(sink.accepted()) == 3, what="the resolutions, in the morning")
        assert [b["type"] for b in bodies(sink)][1:] == ["sanpi.alert.resolved.v1"] * 2
        h.clock.advance(dt.timedelta(days=1))
        sentinel = await h.feed(alert(Severity.RED))
        await eventually(lambda: sent(sink, sentinel.id), what="sentinel")
        assert "sanpi.notification.repeat" not in [b["type"] for b in bodies(sink)]
        assert await h.outbox("sanpi.notification.escalated.v1") == []


async def test_a_red_alert_falling_to_yellow_stops_its_timers(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, red_repeat_interval_s=60, grouping_window_s=0) as h:
        await subscribe(h, channel="webhook", url=sink.url)
        red = alert(Severity.RED)
        await h.feed(red)
        await eventually(lambda: len(sink.accepted()) == 1, what="red")
        fields = {**red.model_dump(), "severity": Severity.YELLOW}
        await h.feed(AlertUpdated(**fields, previous_severity=Severity.RED))
        await eventually(lambda: len(sink.accepted()) == 2, what="update")
        h.clock.advance(dt.timedelta(hours=5))
        sentinel = await h.feed(alert(Severity.RED))
        await eventually(lambda: sent(sink, sentinel.id), what="sentinel")
        reminders = [b for b in bodies(sink) if b["type"] == "sanpi.notification.repeat"]
        assert reminders == []


async def test_e_mails_in_chinese_and_english(h: Harness, smtp: SmtpSink) -> None:
    await subscribe(h, channel="email", email="zh@wutong.example.cn", language="zh")
    await subscribe(h, channel="email", email="en@wutong.example.cn", language="en")
    await h.feed(alert(Severity.RED))
    [zh] = await eventually(lambda: smtp.to("zh@wutong.example.cn"), what="zh")
    [en] = await eventually(lambda: smtp.to("en@wutong.example.cn"), what="en")
    assert zh["Subject"] == "【红色预警】雄韬氢能产业园：签约后未开工"
    assert "责任单位：梧桐园区运营中心" in zh.get_content()
    assert en["Subject"] == "[RED alert] 雄韬氢能产业园: signed but not started"
    assert "Responsible unit: 梧桐园区运营中心" in en.get_content()
    assert en["Content-Language"] == "en"
