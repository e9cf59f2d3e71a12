"""A 旬-end digest over the real broker carries the 旬's bulletin (通报): the notification service's
digest job fetches the PDF from the milestone service's API (a real uvicorn, the registry's
indicators behind it), the e-mail reaching the SMTP server has it attached, the 企业微信, 钉钉 and
飞书 robots (each checking its vendor's signature and schema) and the webhook get the link; with
the milestone service down the digest still arrives, without it, and says so."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import Severity, build_record
from sanpi.kit import FixedClock
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Broker, free_port
from tests.support.apps import auth, serve_in_process
from tests.support.kafka import produce
from tests.support.notification import (
    MILESTONE_SOURCE,
    SmtpSink,
    alert,
    harness_settings,
    smtp_sink,
)
from tests.support.robots import (
    DingtalkReceiver,
    FeishuReceiver,
    RobotReceiver,
    WecomReceiver,
    shown_text,
)
from tests.support.sink import WebhookSink
from tests.support.threaded import serve_in_thread
from tests.support.waiting import eventually

# Every service its own database (on PostgreSQL too), as in production.
pytestmark = [pytest.mark.kafka, pytest.mark.usefixtures("service_databases")]

OFFICIAL = "zhao@wutong.example.cn"
PORTAL = "http://portal.example"
NAME = "通报-2023-03-X2.pdf"
LINK = f"{PORTAL}/bulletins/2023-03-X2.pdf"
DIGEST = {"xun_at": "17:30", "instead_of_immediate": True}


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CAMPAIGN_TZ)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    # Monday 2023-03-20, the last day of 3月中旬 (2023-03-X2).
    return FixedClock(cst(2023, 3, 20, 12, 0).astimezone(dt.UTC))


@pytest.fixture
def milestone_url(tmp_path: Path, clock: FixedClock) -> Iterator[str]:
    """The milestone service under uvicorn, its bulletin reading the registry's API."""
    registry = registry_app(
        RegistrySettings(data_dir=tmp_path / "registry", kafka_enabled=False), clock
    )
    with serve_in_thread(registry) as registry_server:
        settings = MilestoneSettings(
            data_dir=tmp_path / "milestone",
            kafka_enabled=False,
            evaluation_interval_s=0,
            registry_url=registry_server.url,
        )
        with serve_in_thread(milestone_app(settings, clock)) as server:
            yield server.url


@asynccontextmanager
async def notifier(
    tmp_path: Path, broker: Broker, clock: FixedClock, smtp: SmtpSink, milestone: str
) -> AsyncIterator[Any]:
    settings = harness_settings(
        tmp_path / "notification",
        kafka_enabled=True,
        kafka_bootstrap=broker.bootstrap,
        consumer_group=f"bulletins-{uuid.uuid4().hex[:8]}",
        digest_poll_s=0.05,
        smtp_port=smtp.port,
        portal_url=PORTAL,
        milestone_url=milestone,
    )
    app = create_app(settings, clock)
    async with serve_in_process(app) as client:
        client.headers.update(auth(subject="officer"))
        yield client


async def digest_mail(
    client: Any, broker: Broker, clock: FixedClock, smtp: SmtpSink, bodies: list[dict[str, Any]]
) -> EmailMessage:
    """Subscribes `bodies` to a park's 旬 digest, feeds a red alert through Kafka, ends the 旬
    (the digest job, every 0.05 s, fetches the bulletin and queues) and returns the e-mail."""
    park = f"梧桐-{uuid.uuid4().hex[:4]}"
    for body in bodies:
        made = await client.post(
            "/v1/subscriptions", json={**body, "parks": [park], "digest": DIGEST}
        )
        assert made.status_code == 201, made.text
    clock.advance(dt.timedelta(minutes=1))
    await red_alert_consumed(client, broker, park)
    clock.set(cst(2023, 3, 20, 17, 30).astimezone(dt.UTC))
    await eventually(lambda: len(smtp.to(OFFICIAL)) == 1, what="the digest e-mail")
    [mail] = smtp.to(OFFICIAL)
    return mail


async def red_alert_consumed(client: Any, broker: Broker, park: str) -> None:
    red = alert(Severity.RED, park=park, project_name="雄韬氢能产业园")
    _event, record = build_record(red, source=MILESTONE_SOURCE)
    await produce(
        broker.bootstrap, record.topic, [record.value], key=record.key, headers=record.headers
    )

    async def consumed() -> bool:
        found = await client.get("/v1/alert-states", params={"park": park})
        return found.status_code == 200 and bool(found.json()["items"])

    # After every record the earlier tests left on the topics (thousands, late in a run).
    await eventually(consumed, timeout=180, what="the red alert consumed from Kafka")


def robot_bodies(receivers: dict[str, RobotReceiver]) -> list[dict[str, Any]]:
    out = []
    for channel, receiver in receivers.items():
        body: dict[str, Any] = {"channel": channel, "url": receiver.url}
        if channel != "wecom":
            body["secret"] = receiver.secret
        out.append(body)
    return out


async def test_over_kafka_a_xun_end_digest_e_mail_carries_the_bulletin_pdf_and_robots_its_link(
    kafka_broker: Broker,
    tmp_path: Path,
    smtp: SmtpSink,
    clock: FixedClock,
    milestone_url: str,
) -> None:
    receivers: dict[str, RobotReceiver] = {
        "wecom": WecomReceiver().start(),
        "dingtalk": DingtalkReceiver().start(),
        "feishu": FeishuReceiver().start(),
    }
    sink = WebhookSink().start()
    try:
        async with notifier(tmp_path, kafka_broker, clock, smtp, milestone_url) as client:
            bodies = [
                *robot_bodies(receivers),
                {"channel": "webhook", "url": sink.url},
                {"channel": "email", "email": OFFICIAL},
            ]
            mail = await digest_mail(client, kafka_broker, clock, smtp, bodies)
            assert "旬红色预警汇总" in str(mail["Subject"])
            [attached] = list(mail.iter_attachments())
            assert attached.get_content_type() == "application/pdf"
            assert attached.get_filename() == NAME
            pdf = attached.get_content()
            assert pdf.startswith(b"%PDF")
            assert len(pdf) > 10_000  # the real A4 bulletin, fonts embedded
            body = mail.get_body(preferencelist=("plain",))
            assert body is not None
            assert f"附件：{NAME}" in body.get_content()

            await eventually(
                lambda: all(len(r.got()) == 1 for r in receivers.values()),
                what="one digest at each robot",
            )
            for channel, receiver in receivers.items():
                assert receiver.refused == [], channel  # signatures and schemas accepted
                shown = shown_text(receiver.got()[0])
                assert "旬红色预警汇总" in shown, (channel, shown)
                assert LINK in json.dumps(receiver.got()[0].body, ensure_ascii=False), channel

            await eventually(lambda: len(sink.accepted()) == 1, what="the webhook's digest")
            envelope = json.loads(sink.accepted()[0].body)
            data = envelope["events"][0]["data"]
            assert data["bulletin_url"] == LINK
            assert data["bulletin_filename"] == NAME

            async def all_delivered() -> bool:
                listed = await client.get("/v1/deliveries", params={"limit": 50})
                return [d["status"] for d in listed.json()["items"]] == ["DELIVERED"] * 5

            # Each once (its outcome is recorded just after the receiver answered).
            await eventually(all_delivered, what="five deliveries, each delivered once")
    finally:
        sink.stop()
        for receiver in receivers.values():
            receiver.stop()


async def test_over_kafka_with_the_milestone_api_down_the_xun_digest_still_arrives_and_says_so(
    kafka_broker: Broker, tmp_path: Path, smtp: SmtpSink, clock: FixedClock
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with WecomReceiver() as robot:
        async with notifier(tmp_path, kafka_broker, clock, smtp, nobody) as client:
            bodies = [
                {"channel": "wecom", "url": robot.url},
                {"channel": "email", "email": OFFICIAL},
            ]
            mail = await digest_mail(client, kafka_broker, clock, smtp, bodies)
            assert list(mail.iter_attachments()) == []
            text = mail.get_content()
            assert "【" in text
            assert "本旬通报未能附上（进度服务" in text
            assert "无法连接" in text
            assert "本汇总照常发送" in text
            await eventually(lambda: len(robot.got()) == 1, what="the robot's digest")
            assert robot.refused == []
            shown = shown_text(robot.got()[0])
            assert "本旬通报未能附上" in shown
            assert "/bulletins/" not in shown
            metrics = await client.get("/metrics")
            assert 'sanpi_notification_digest_bulletins_total{outcome="missing"}' in metrics.text
