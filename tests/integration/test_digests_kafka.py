"""A daily digest over the real broker on an injected clock: a red alert produced to Kafka reaches
the 企业微信, 钉钉 and 飞书 robots (each checking its vendor's signature and schema) and an SMTP
server only in the digests, which skip a 调休 holiday Saturday and go out on the make-up days."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import Severity, build_record
from sanpi.kit import FixedClock
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.notification.app import create_app
from sanpi.notification.digests import service as digests
from tests.conftest import Broker, free_port
from tests.support.apps import auth, serve_in_process
from tests.support.kafka import produce
from tests.support.notification import (
    MILESTONE_SOURCE,
    SmtpServer,
    SmtpSink,
    alert,
    harness_settings,
)
from tests.support.robots import (
    DingtalkReceiver,
    FeishuReceiver,
    RobotReceiver,
    WecomReceiver,
    shown_text,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka

DIGEST = {"daily_at": "08:30", "working_days_only": True, "instead_of_immediate": True}
OFFICIAL = "wang@shuangqiao.example.cn"


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CAMPAIGN_TZ)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()


async def test_over_kafka_a_daily_digest_skips_a_holiday_saturday_and_goes_out_on_make_up_days(
    kafka_broker: Broker, tmp_path: Path, smtp: SmtpSink
) -> None:
    # A park of its own: the session's broker holds the earlier tests' alerts (双桥 among them),
    # which a fresh consumer group reads first; a digest must wait for this test's alert.
    park = f"双桥-{uuid.uuid4().hex[:4]}"
    clock = FixedClock(cst(2025, 9, 25, 12, 0).astimezone(dt.UTC))
    settings = harness_settings(
        tmp_path,
        kafka_enabled=True,
        kafka_bootstrap=kafka_broker.bootstrap,
        consumer_group=f"digests-{uuid.uuid4().hex[:8]}",
        digest_poll_s=0.05,
        smtp_port=smtp.port,
    )
    receivers: dict[str, RobotReceiver] = {
        "wecom": WecomReceiver().start(),
        "dingtalk": DingtalkReceiver().start(),
        "feishu": FeishuReceiver().start(),
    }
    app = create_app(settings, clock)
    try:
        async with serve_in_process(app) as client:
            client.headers.update(auth(subject="officer"))
            bodies = []
            for channel, receiver in receivers.items():
                body: dict[str, Any] = {
                    "channel": channel,
                    "url": receiver.url,
                    "parks": [park],
                    "digest": DIGEST,
                }
                if channel != "wecom":
                    body["secret"] = receiver.secret
                bodies.append(body)
            bodies.append(
                {
                    "channel": "email",
                    "email": OFFICIAL,
                    "parks": [park],
                    "language": "en",
                    "digest": DIGEST,
                }
            )
            subscriptions = []
            for body in bodies:
                created = await client.post("/v1/subscriptions", json=body)
                assert created.status_code == 201, created.text
                subscriptions.append(created.json()["id"])

            clock.advance(dt.timedelta(minutes=1))
            red = alert(Severity.RED, park=park, project_name="上海重塑燃料电池产业化基地")
            _event, record = build_record(red, source=MILESTONE_SOURCE)
            await produce(
                kafka_broker.bootstrap,
                record.topic,
                [record.value],
                key=record.key,
                headers=record.headers,
            )

            async def consumed() -> bool:
                found = await client.get("/v1/alert-states", params={"park": park})
                return found.status_code == 200 and bool(found.json()["items"])

            # After every record the earlier tests left on the topics (thousands, late in a run).
            await eventually(consumed, timeout=180, what="the red alert consumed from Kafka")

            async def slots() -> list[list[str]]:
                out = []
                for sid in subscriptions:
                    listed = await client.get(f"/v1/subscriptions/{sid}/digests")
                    out.append([d["slot"] for d in listed.json()["items"]])
                return out

            async def at(when: dt.datetime) -> list[str]:
                clock.set(when.astimezone(dt.UTC))
                await digests.run_due(app.state.runtime.db, now=clock.now())
                found = await slots()
                assert all(s == found[0] for s in found), found  # every channel alike
                return found[0]

            assert await at(cst(2025, 9, 26, 8, 30)) == ["2025-09-26"]  # Friday
            assert await at(cst(2025, 9, 27, 8, 30)) == ["2025-09-26"]  # an ordinary Saturday
            assert await at(cst(2025, 9, 28, 8, 30)) == ["2025-09-26", "2025-09-28"]  # worked
            assert await at(cst(2025, 10, 4, 8, 30)) == ["2025-09-26", "2025-09-28"]  # holiday
            sent = ["2025-09-26", "2025-09-28", "2025-10-11"]
            assert await at(cst(2025, 10, 11, 8, 30)) == sent  # the Saturday worked

            def robots_done() -> bool:
                return all(len(r.got()) == len(sent) for r in receivers.values())

            await eventually(robots_done, what="three digests at each robot")
            await eventually(lambda: len(smtp.to(OFFICIAL)) == len(sent), what="three e-mails")
            for channel, receiver in receivers.items():
                assert receiver.refused == [], channel  # signatures and schemas accepted
                texts = [shown_text(g) for g in receiver.got()]
                # Instead of the immediate messages: the alert reached them in the digests only.
                assert all("每日红色预警汇总" in t for t in texts), (channel, texts)
                [friday] = [t for t in texts if "2025年9月26日" in t]
                assert "2025年9月26日：新变红 1 项，仍为红色 0 项，已解除 0 项" in friday
                assert "上海重塑燃料电池产业化基地" in friday
                [saturday] = [t for t in texts if "2025年10月11日" in t]
                assert "2025年10月11日：新变红 0 项，仍为红色 1 项" in saturday
            mails = {str(m["Subject"]): m for m in smtp.to(OFFICIAL)}
            assert (
                "[sanpi daily digest of red alerts] 2025-09-26: "
                "1 turned red, 0 still red, 0 resolved"
            ) in mails
            [last] = [m for s, m in mails.items() if "2025-10-11" in s]
            window = "Period: 2025-09-28 08:30 to 2025-10-11 08:30 (Asia/Shanghai)"
            assert window in last.get_content()
    finally:
        for receiver in receivers.values():
            receiver.stop()
