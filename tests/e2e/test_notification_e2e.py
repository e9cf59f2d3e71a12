"""The notification service as a process over the real broker, with alerts produced to Kafka
exactly as the milestone service publishes them: retries and signatures, 410, e-mail in two
languages, SSE resume, duplicates, escalation, quiet hours, grouping, dead-letter replay."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from sanpi.events import AlertRule, EventData, KafkaRecord, Severity, build_record, header_type
from sanpi.kit import CAMPAIGN_TZ, Role, issue_token
from scripts import stack
from tests.conftest import Broker, free_port
from tests.support.kafka import produce, produce_records, read_until
from tests.support.notification import (
    MILESTONE_SOURCE,
    SmtpServer,
    SmtpSink,
    SseMessage,
    alert,
    sse_messages,
)
from tests.support.robots import (
    DingtalkReceiver,
    FeishuReceiver,
    RobotReceiver,
    WecomReceiver,
    shown_text,
)
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SANPI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sanpi"
PORTAL = "https://sanpi.example.cn"
# Escalation levels 1, 2, 3 are due this many seconds after the first red notification (every
# hour counts as working time here: the process runs on the wall clock, at any hour of any day).
ESCALATION_DELAYS = [3.0, 5.0, 7.0]


@dataclass
class Notifier:
    """A notification service process of its own (own consumer group, database and short timers)
    against the session's broker, plus the SMTP server it sends to."""

    url: str
    secret: str
    smtp: SmtpSink
    bootstrap: str

    def headers(
        self, role: str = "admin", subject: str = "official", parks: tuple[str, ...] = ()
    ) -> dict[str, str]:
        token = issue_token(self.secret, subject=subject, role=Role(role), parks=parks)
        return {"Authorization": f"Bearer {token}"}

    def token(self) -> str:
        return issue_token(self.secret, subject="official", role=Role.ADMIN)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()


@pytest.fixture(scope="module")
def notifier(kafka_broker: Broker, run_dir: Path, smtp_server: SmtpSink) -> Iterator[Notifier]:
    directory = run_dir / "notifier"
    secret = stack.jwt_secret(directory)
    env = stack.service_env(secret, kafka_broker.bootstrap, directory)
    env.update(
        {
            "SANPI_ENV": "test",
            "SANPI_NOTIFICATION_CONSUMER_GROUP": f"sanpi-notification-e2e-{uuid.uuid4().hex[:6]}",
            "SANPI_NOTIFICATION_DELIVERY_BACKOFF_BASE_S": "0.2",
            "SANPI_NOTIFICATION_DELIVERY_MAX_ATTEMPTS": "5",
            "SANPI_NOTIFICATION_GROUPING_WINDOW_S": "1.5",
            "SANPI_NOTIFICATION_ESCALATION_DELAYS": json.dumps(
                [f"{d:g}s" for d in ESCALATION_DELAYS]
            ),
            "SANPI_NOTIFICATION_WORKING_DAYS": "all",
            "SANPI_NOTIFICATION_TIMER_POLL_S": "0.2",
            "SANPI_NOTIFICATION_STREAM_HEARTBEAT_S": "0.5",
            "SANPI_NOTIFICATION_STREAM_POLL_S": "0.1",
            "SANPI_NOTIFICATION_SMTP_PORT": str(smtp_server.port),
            "SANPI_NOTIFICATION_PORTAL_URL": PORTAL,
        }
    )
    port = free_port()
    pid = stack.start_service("notification", port=port, env=env, run_dir=directory)
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_ready(url, timeout=60, pid=pid, marker="sanpi.notification")
        yield Notifier(url, secret, smtp_server, kafka_broker.bootstrap)
    finally:
        stack.stop_pidfile(directory / "pids" / "notification.pid", "sanpi.notification")


@pytest.fixture
async def http(notifier: Notifier) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=notifier.url, headers=notifier.headers(), timeout=10
    ) as client:
        yield client


async def publish(notifier: Notifier, *items: EventData) -> list[KafkaRecord]:
    """Produces events to their topics as the milestone service's relay does."""
    records = [build_record(data, source=MILESTONE_SOURCE)[1] for data in items]
    await produce_records(notifier.bootstrap, records)
    return records


def event_id(rec: KafkaRecord) -> str:
    value: str = json.loads(rec.value)["id"]
    return value


async def subscribe(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(http: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/deliveries", params={"subscription": subscription_id})
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def park() -> str:
    """A park of the test's own, so that other tests' alerts never match its subscriptions."""
    return f"园区-{uuid.uuid4().hex[:8]}"


async def notifications_of(
    notifier: Notifier, subscription_id: str, event_type: str, count: int
) -> list[dict[str, Any]]:
    """The data of `count` events of this type on sanpi.notifications for one subscription."""

    def mine(records: list[Any]) -> list[dict[str, Any]]:
        return [
            json.loads(r.value)["data"]
            for r in records
            if r.key == subscription_id.encode() and header_type(r.headers) == event_type
        ]

    records = await read_until(
        notifier.bootstrap, "sanpi.notifications", lambda rs: len(mine(rs)) >= count
    )
    return mine(records)


async def test_a_receiver_failing_three_times_gets_one_delivery_signed_with_both_secrets(
    http: httpx.AsyncClient, notifier: Notifier
) -> None:
    where = park()
    with_sink = WebhookSink().start()
    try:
        with_sink.script.extend([500, 503, 502])
        sub = await subscribe(http, channel="webhook", url=with_sink.url, parks=[where])
        old = sub["secret"]
        new = (await http.post(f"/v1/subscriptions/{sub['id']}/rotate-secret")).json()["secret"]
        [rec] = await publish(notifier, alert(Severity.RED, park=where))

        [accepted] = await eventually(with_sink.accepted, what="delivery after three failures")
        attempts = with_sink.snapshot()
        assert [r.status for r in attempts] == [500, 503, 502, 204]
        assert len({r.headers["webhook-id"] for r in attempts}) == 1, "retries keep the webhook-id"
        assert json.loads(accepted.body)["id"] == event_id(rec)
        # During the rotation both secrets sign: a receiver holding either one verifies.
        assert Webhook(old).verify(accepted.body, accepted.headers)["id"] == event_id(rec)
        assert Webhook(new).verify(accepted.body, accepted.headers)["id"] == event_id(rec)
    finally:
        with_sink.stop()

    async def settled() -> list[dict[str, Any]]:
        # The receiver's 204 comes before the service stores the attempt (a transaction per
        # batch of results): until then the delivery still reads PENDING.
        found = await deliveries(http, sub["id"])
        return found if found and found[0]["status"] != "PENDING" else []

    [delivery] = await eventually(settled, what="the fourth attempt stored")
    assert delivery["status"] == "DELIVERED"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 502, 204]
    [delivered] = await notifications_of(notifier, sub["id"], "sanpi.notification.delivered.v1", 1)
    assert delivered["attempts"] == 4
    assert delivered["event_ids"] == [event_id(rec)]
    failed = await notifications_of(notifier, sub["id"], "sanpi.notification.failed.v1", 3)
    assert [f["final"] for f in failed] == [False, False, False]


async def test_a_red_alert_reaches_the_wecom_dingtalk_and_feishu_robots_once_each(
    http: httpx.AsyncClient, notifier: Notifier
) -> None:
    where = park()
    receivers: dict[str, RobotReceiver] = {
        "wecom": WecomReceiver().start(),
        "dingtalk": DingtalkReceiver().start(),
        "feishu": FeishuReceiver().start(),
    }
    try:
        ids = []
        for channel, receiver in receivers.items():
            body: dict[str, Any] = {"channel": channel, "url": receiver.url, "parks": [where]}
            if channel != "wecom":
                body["secret"] = receiver.secret
            ids.append((await subscribe(http, **body))["id"])
        red = alert(Severity.RED, park=where)
        await publish(notifier, red)

        async def settled() -> list[dict[str, Any]]:
            found = [d for sid in ids for d in await deliveries(http, sid)]
            return found if len(found) == 3 and all(d["status"] != "PENDING" for d in found) else []

        done = await eventually(settled, what="the three robot deliveries recorded")
        assert [d["status"] for d in done] == ["DELIVERED"] * 3
        for channel, receiver in receivers.items():
            assert receiver.refused == [], channel  # signature, schema and limit all accepted
            [got] = receiver.got()
            text = shown_text(got)
            for expected in (
                where,
                "R02 签约后未开工",
                "红色",
                f"{PORTAL}/projects/{red.project_id}",
            ):
                assert expected in text, (channel, expected, text)
    finally:
        for receiver in receivers.values():
            receiver.stop()


async def test_a_receiver_answering_410_disables_the_subscription(
    http: httpx.AsyncClient, notifier: Notifier, webhook_sink: WebhookSink
) -> None:
    where = park()
    webhook_sink.default = 410
    sub = await subscribe(http, channel="webhook", url=webhook_sink.url, parks=[where])
    await publish(notifier, alert(Severity.RED, park=where))

    async def disabled() -> bool:
        fetched = (await http.get(f"/v1/subscriptions/{sub['id']}")).json()
        return fetched["active"] is False

    await eventually(disabled, what="subscription disabled")
    [event] = await notifications_of(
        notifier, sub["id"], "sanpi.notification.endpoint_disabled.v1", 1
    )
    assert event["reason"] == "receiver answered 410 Gone"
    # A later alert never goes out to it. (Published after the disabling: two alerts consumed in
    # one transaction are claimed together and sent concurrently, both before the 410 is known.)
    # A witness subscription of the same park shows when the later alert was consumed.
    witness = await subscribe(http, channel="inbox", parks=[where])
    await publish(notifier, alert(Severity.RED, park=where))
    await eventually(lambda: deliveries(http, witness["id"]), what="the later alert consumed")
    assert len(webhook_sink.snapshot()) == 1  # no retry, and the later alert never went out
    assert len(await deliveries(http, sub["id"])) == 1


async def test_the_smtp_server_receives_the_chinese_and_english_e_mails(
    http: httpx.AsyncClient, notifier: Notifier
) -> None:
    where = park()
    zh_to, en_to = f"zh-{uuid.uuid4().hex[:6]}@example.cn", f"en-{uuid.uuid4().hex[:6]}@example.cn"
    await subscribe(http, channel="email", email=zh_to, parks=[where], language="zh")
    await subscribe(http, channel="email", email=en_to, parks=[where], language="en")
    await publish(notifier, alert(Severity.RED, park=where, rule=AlertRule.R05))

    [zh] = await eventually(lambda: notifier.smtp.to(zh_to), what="zh e-mail")
    [en] = await eventually(lambda: notifier.smtp.to(en_to), what="en e-mail")
    assert zh["Subject"] == "【红色预警】雄韬氢能产业园：节点逾期"
    assert f"园区：{where}" in zh.get_content()
    assert en["Subject"] == "[RED alert] 雄韬氢能产业园: milestone overdue"
    assert f"Park: {where}" in en.get_content()
    assert zh["Content-Language"] == "zh-CN"


async def read_events(
    messages: AsyncIterator[SseMessage], count: int, heartbeats: list[SseMessage]
) -> list[SseMessage]:
    events: list[SseMessage] = []
    async for message in messages:
        if message.comment is not None:
            heartbeats.append(message)
        elif message.id is not None:
            events.append(message)
            if len(events) == count:
                return events
    raise AssertionError("stream ended")


async def test_an_sse_client_that_reconnects_with_last_event_id_misses_nothing(
    notifier: Notifier,
) -> None:
    where = park()
    params = {"park": where, "min_severity": "yellow"}
    heartbeats: list[SseMessage] = []
    async with httpx.AsyncClient(
        base_url=notifier.url, headers=notifier.headers(), timeout=30
    ) as client:
        async with client.stream("GET", "/v1/stream", params=params) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            messages = sse_messages(response)
            first = await anext(messages)
            assert first.comment == "sanpi stream"
            before = await publish(
                notifier,
                alert(Severity.YELLOW, park=where),
                alert(Severity.BLUE, park=where),  # below the filter
                alert(Severity.RED, park=where),
            )
            seen = await asyncio.wait_for(read_events(messages, 2, heartbeats), timeout=30)
            await asyncio.wait_for(_heartbeat(messages, heartbeats), timeout=10)
        # Disconnected: these happen while nobody listens.
        during = await publish(
            notifier,
            alert(Severity.ORANGE, park=where),
            alert(Severity.RED, park=where),
            alert(Severity.YELLOW, park="别的园区"),
            alert(Severity.YELLOW, park=where),
        )
        resume = {"Last-Event-ID": seen[-1].id or ""}
        async with client.stream("GET", "/v1/stream", params=params, headers=resume) as response:
            again = await asyncio.wait_for(read_events(sse_messages(response), 3, heartbeats), 30)

    # Alerts of different projects travel on different partitions: the stream keeps the order
    # in which the service consumed them, which need not be the order they were produced in.
    assert sorted(json.loads(m.data)["id"] for m in seen) == sorted(
        [event_id(before[0]), event_id(before[2])]
    )
    assert sorted(json.loads(m.data)["id"] for m in again) == sorted(
        [event_id(during[0]), event_id(during[1]), event_id(during[3])]
    )
    ids = [int(m.id or 0) for m in [*seen, *again]]
    assert ids == sorted(set(ids)), "positions only grow, and none repeats"
    assert all(m.event == "sanpi.alert.raised.v1" for m in [*seen, *again])
    assert any(h.comment == "heartbeat" for h in heartbeats)


async def _heartbeat(messages: AsyncIterator[SseMessage], heartbeats: list[SseMessage]) -> None:
    async for message in messages:
        if message.comment == "heartbeat":
            heartbeats.append(message)
            return


async def test_bad_stream_requests_are_problems(http: httpx.AsyncClient) -> None:
    bad_id = await http.get("/v1/stream", headers={"Last-Event-ID": "abc"})
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "header.Last-Event-ID"
    bad_type = await http.get("/v1/stream", params={"event_type": "sanpi.nothing.v1"})
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["field"] == "event_type"
    assert (await http.get("/v1/stream", params={"subscription": "nope"})).status_code == 404


async def test_duplicated_kafka_records_never_produce_a_second_notification(
    http: httpx.AsyncClient, notifier: Notifier, webhook_sink: WebhookSink
) -> None:
    where = park()
    sub = await subscribe(http, channel="webhook", url=webhook_sink.url, parks=[where])
    raised = alert(Severity.RED, park=where)
    [rec] = await publish(notifier, raised)
    # Kafka redelivers the same record (same key, so same partition, in order) twice more ...
    await produce(
        notifier.bootstrap, rec.topic, [rec.value, rec.value], key=rec.key, headers=rec.headers
    )
    # ... then a fresh event on that partition: once it is delivered, the copies were consumed.
    [sentinel] = await publish(
        notifier, alert(Severity.RED, park=where, project_id=raised.project_id, rule=AlertRule.R05)
    )

    def ids() -> list[str]:
        return [json.loads(r.body)["id"] for r in webhook_sink.accepted()]

    await eventually(lambda: event_id(sentinel) in ids(), what="sentinel delivered")
    assert ids().count(event_id(rec)) == 1
    assert len(await deliveries(http, sub["id"])) == 2


async def test_an_unacknowledged_red_alert_escalates_on_schedule_an_acknowledged_one_does_not(
    http: httpx.AsyncClient, notifier: Notifier
) -> None:
    where = park()
    owner = f"owner-{uuid.uuid4().hex[:6]}@example.cn"
    contacts = {
        "unit_head": f"unit-{uuid.uuid4().hex[:6]}@example.cn",
        "sponsor_leader": f"leader-{uuid.uuid4().hex[:6]}@example.cn",
        "district": f"district-{uuid.uuid4().hex[:6]}@example.cn",
    }
    sub = await subscribe(
        http, channel="email", email=owner, parks=[where], escalation_contacts=contacts
    )
    ignored = alert(Severity.RED, park=where, project_name="无人确认项目")
    handled = alert(Severity.RED, park=where, project_name="已确认项目")
    await publish(notifier, ignored, handled)

    operator = notifier.headers(role="operator", subject="zhang", parks=(where,))

    async def acknowledged() -> bool:
        response = await http.post(f"/v1/alerts/{handled.alert_key}/ack", headers=operator)
        return response.status_code == 200

    await eventually(acknowledged, what="acknowledgement accepted", interval=0.02)
    await eventually(lambda: len(notifier.smtp.to(owner)) == 2, what="both first e-mails")

    escalated = await notifications_of(notifier, sub["id"], "sanpi.notification.escalated.v1", 3)
    assert {e["alert_key"] for e in escalated} == {ignored.alert_key}
    assert [(e["level"], e["contact"]) for e in escalated] == [
        (1, contacts["unit_head"]),
        (2, contacts["sponsor_leader"]),
        (3, contacts["district"]),
    ]
    first = next(
        d for d in await deliveries(http, sub["id"]) if d["alert_key"] == ignored.alert_key
    )
    red_since = dt.datetime.fromisoformat(first["created_at"])
    for step, delay in zip(escalated, ESCALATION_DELAYS, strict=True):
        late_by = (
            dt.datetime.fromisoformat(step["escalated_at"]) - red_since
        ).total_seconds() - delay
        assert 0 <= late_by < 2.0, f"level {step['level']} off schedule by {late_by:.2f}s"
    for level, contact in enumerate(contacts.values(), start=1):
        mails = await eventually(partial(notifier.smtp.to, contact), what=f"level {level} e-mail")
        assert [m["Subject"][:8] for m in mails] == [f"【督办·第{level}级】"]
        assert "无人确认项目" in mails[0]["Subject"]
    assert not any(
        "已确认项目" in m["Subject"] for c in contacts.values() for m in notifier.smtp.to(c)
    )
    # The log is complete (unlike a topic read that stops at the third match): the acknowledged
    # alert, red just as long, got no escalation at any level. The first step opened a 督办 item:
    # its message to the unit head is the item's (SUPERVISION), not a plain escalation.
    log = await deliveries(http, sub["id"])
    assert sorted((d["kind"], d["alert_key"] == ignored.alert_key) for d in log) == [
        ("ESCALATION", True),
        ("ESCALATION", True),
        ("EVENT", False),
        ("EVENT", True),
        ("SUPERVISION", True),
    ]


async def test_quiet_hours_hold_a_yellow_alert_and_let_a_red_one_through(
    http: httpx.AsyncClient, notifier: Notifier, webhook_sink: WebhookSink
) -> None:
    where = park()
    now = dt.datetime.now(CAMPAIGN_TZ)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    sub = await subscribe(
        http,
        channel="webhook",
        url=webhook_sink.url,
        parks=[where],
        quiet_hours={"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")},
    )
    project_id = str(uuid.uuid4())  # one key: the yellow alert is consumed before the red one
    yellow = alert(Severity.YELLOW, park=where, project_id=project_id, rule=AlertRule.R04)
    red = alert(Severity.RED, park=where, project_id=project_id, rule=AlertRule.R05)
    [yellow_rec, red_rec] = await publish(notifier, yellow, red)

    await eventually(webhook_sink.accepted, what="the red alert")
    assert [json.loads(r.body)["id"] for r in webhook_sink.accepted()] == [event_id(red_rec)]
    held = next(
        d for d in await deliveries(http, sub["id"]) if d["event_id"] == event_id(yellow_rec)
    )
    assert held["status"] == "PENDING"
    held_until = dt.datetime.fromisoformat(held["held_until"])
    assert held_until == end.replace(second=0, microsecond=0).astimezone(dt.UTC)


async def test_forty_yellow_alerts_of_one_pass_for_one_park_give_one_message(
    http: httpx.AsyncClient, notifier: Notifier, webhook_sink: WebhookSink
) -> None:
    where = park()
    sub = await subscribe(http, channel="webhook", url=webhook_sink.url, parks=[where])
    evaluation = f"eval-{uuid.uuid4().hex[:8]}"
    records = await publish(
        notifier, *[alert(Severity.YELLOW, park=where, evaluation_id=evaluation) for _ in range(40)]
    )
    [message] = await eventually(webhook_sink.accepted, what="the digest")
    digest = json.loads(message.body)
    assert digest["type"] == "sanpi.notification.digest"
    assert sorted(e["id"] for e in digest["events"]) == sorted(event_id(r) for r in records)
    assert digest["subject"] == f"【黄色预警汇总】{where}：本轮评估共 40 条预警"
    [logged] = await deliveries(http, sub["id"])
    assert logged["kind"] == "DIGEST"
    assert len(logged["event_ids"]) == 40
    assert len(webhook_sink.accepted()) == 1


def sanpi(notifier: Notifier, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SANPI_NOTIFICATION_URL": notifier.url,
        "SANPI_TOKEN": notifier.token(),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(SANPI), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_cli_subscribes_and_replays_dead_letters(
    http: httpx.AsyncClient, notifier: Notifier, webhook_sink: WebhookSink
) -> None:
    where = park()
    webhook_sink.default = 500
    created = sanpi(
        notifier,
        "subscribe",
        webhook_sink.url,
        "--park",
        where,
        "--min-severity",
        "orange",
        "--quiet-hours",
        "22:00-07:00",
        "--language",
        "en",
        "--unit-head",
        "wang@example.cn",
    )
    assert created.returncode == 0, created.stderr
    sub = json.loads(created.stdout)
    assert sub["parks"] == [where]
    assert sub["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert sub["escalation_contacts"]["unit_head"] == "wang@example.cn"
    assert sub["id"] in sanpi(notifier, "subscriptions", "list", "--json").stdout

    [rec] = await publish(notifier, alert(Severity.RED, park=where))

    async def dead() -> list[dict[str, Any]]:
        return [d for d in await deliveries(http, sub["id"]) if d["status"] == "DEAD"]

    [letter] = await eventually(dead, what="dead letter after the last attempt")
    assert letter["attempts"] == 5

    webhook_sink.default = 204
    replayed = sanpi(notifier, "dead-letters", "replay", "--subscription", sub["id"])
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["replayed"] == [letter["id"]]
    [accepted] = await eventually(webhook_sink.accepted, what="replayed delivery")
    assert json.loads(accepted.body)["id"] == event_id(rec)

    bad = sanpi(notifier, "subscribe", "--channel", "email")
    assert bad.returncode == 1
    assert "email: email 渠道必须填写电子邮箱地址" in bad.stderr  # Chinese unless SANPI_LANG=en
