"""督办 as a loop over the real broker, on an injected clock: a red alert produced to Kafka as the
milestone service publishes it, not acknowledged, opens a 督办 item for the responsible unit's
contact, who receives it on a 企业微信 robot (a local receiver checking the vendor's schema),
responds; the official closes it; another item, left unanswered past its due time in working
days, re-escalates. Every step reaches sanpi.notifications as a versioned event."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from sanpi.events import EventData, Severity, build_record, header_type
from sanpi.kit import FixedClock, Role
from sanpi.notification.app import create_app
from sanpi.notification.settings import NotificationSettings
from tests.conftest import Broker, free_port
from tests.support.apps import auth, serve_in_process
from tests.support.kafka import produce, read_until
from tests.support.notification import MILESTONE_SOURCE, SmtpServer, SmtpSink, alert
from tests.support.robots import WecomReceiver
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka

# Friday 2023-09-01, 10:00 in Shanghai.
FRIDAY_10AM = dt.datetime(2023, 9, 1, 2, 0, tzinfo=dt.UTC)
UNIT = "梧桐园区运营中心"
MOBILE = "13912345678"


@dataclass
class Running:
    client: httpx.AsyncClient
    clock: FixedClock
    bootstrap: str

    async def publish(self, data: EventData) -> str:
        """Produces an event to its topic as the milestone service's relay does; its id."""
        event, rec = build_record(data, source=MILESTONE_SOURCE)
        await produce(self.bootstrap, rec.topic, [rec.value], key=rec.key, headers=rec.headers)
        return event.id

    async def supervision_events(self, item_id: str, wanted: list[str]) -> list[dict[str, Any]]:
        """The events of one item on sanpi.notifications, in order, once all `wanted` types are
        there (the item id is the record key: one partition, the order they happened)."""

        def mine(records: list[ConsumerRecord[bytes, bytes]]) -> list[ConsumerRecord[bytes, bytes]]:
            return [r for r in records if r.key == item_id.encode()]

        records = await read_until(
            self.bootstrap,
            "sanpi.notifications",
            lambda rs: [header_type(r.headers) for r in mine(rs)] == wanted,
        )
        return [json.loads(r.value) for r in mine(records)]


@pytest.fixture
def wecom() -> Iterator[WecomReceiver]:
    with WecomReceiver() as receiver:
        assert isinstance(receiver, WecomReceiver)
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()


@pytest.fixture
async def running(kafka_broker: Broker, tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Running]:
    settings = NotificationSettings(
        data_dir=tmp_path,
        kafka_bootstrap=kafka_broker.bootstrap,
        consumer_group=f"itest-supervision-{uuid.uuid4().hex[:8]}",
        allow_loopback_targets=True,
        smtp_port=smtp.port,
        timer_poll_s=0.05,
        escalation_delays=["1h", "1d", "5d"],
        supervision_due_days=3,
    )
    clock = FixedClock(FRIDAY_10AM)
    async with serve_in_process(create_app(settings, clock)) as client:
        client.headers.update(auth(Role.ADMIN, subject="district-official"))
        yield Running(client, clock, kafka_broker.bootstrap)


async def open_list(r: Running, **params: Any) -> list[dict[str, Any]]:
    response = await r.client.get("/v1/supervision", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def test_an_unacknowledged_red_alert_becomes_a_supervision_loop_that_closes(
    running: Running, wecom: WecomReceiver, smtp: SmtpSink
) -> None:
    r = running
    where = f"梧桐-{uuid.uuid4().hex[:4]}"
    contact = await r.client.post(
        "/v1/contacts",
        json={
            "name": "王建国",
            "unit": UNIT,
            "park": where,
            "wecom_robot_url": wecom.url,
            "wecom_mobile": MOBILE,
        },
    )
    assert contact.status_code == 201, contact.text
    leader = await r.client.post(
        "/v1/contacts", json={"name": "李明", "unit": "区发改委", "email": "liming@gov.example.cn"}
    )
    assert leader.status_code == 201, leader.text
    owner = await r.client.post(
        "/v1/subscriptions",
        json={"channel": "email", "email": "owner@wutong.example.cn", "parks": [where]},
    )
    assert owner.status_code == 201, owner.text

    answered = alert(Severity.RED, park=where, project_name="雄韬氢能产业园")
    ignored = alert(Severity.RED, park=where, project_name="无人反馈项目")
    await r.publish(answered)
    await r.publish(ignored)
    await eventually(
        lambda: len(smtp.to("owner@wutong.example.cn")) == 2, what="both red alerts consumed"
    )

    # One working hour later (Friday 11:00), nobody acknowledged: each alert opens an item.
    r.clock.advance(dt.timedelta(hours=1))

    async def two_open() -> list[dict[str, Any]]:
        found = await open_list(r, unit=UNIT, park=where)
        return found if len(found) == 2 else []

    items = {i["project_name"]: i for i in await eventually(two_open, what="two items")}
    item = items["雄韬氢能产业园"]
    assert (item["status"], item["level"], item["contact_name"]) == ("open", 1, "王建国")
    assert item["due_at"] == "2023-09-06T03:00:00Z"  # 3 working days: Wednesday 11:00

    # The unit's contact receives it on 企业微信, @-mentioned, once per item.
    got = await eventually(lambda: wecom.got() if len(wecom.got()) == 2 else [], what="WeCom")
    assert wecom.refused == []
    texts = {g.body["text"]["content"].split("\n")[0]: g.body["text"] for g in got}
    mine = texts["【督办·第1级】雄韬氢能产业园：签约后未开工"]
    assert mine["mentioned_mobile_list"] == [MOBILE]
    assert "请于2023-09-06 11:00前反馈整改说明" in mine["content"]
    assert item["id"] in mine["content"]

    # The unit responds (its park's operator), the official closes it.
    unit_operator = auth(Role.OPERATOR, subject="wangjg", parks=(where,))
    response = await r.client.post(
        f"/v1/supervision/{item['id']}/respond",
        json={"response": "已约谈企业，承诺9月30日前开工"},
        headers=unit_operator,
    )
    assert response.status_code == 200, response.text
    closed = await r.client.post(
        f"/v1/supervision/{item['id']}/close", json={"note": "整改到位，同意办结"}
    )
    assert closed.status_code == 200, closed.text
    events = await r.supervision_events(
        item["id"],
        [
            "sanpi.notification.supervision_opened.v1",
            "sanpi.notification.supervision_responded.v1",
            "sanpi.notification.supervision_closed.v1",
        ],
    )
    opened, responded, done = (e["data"] for e in events)
    assert opened["contact_name"] == "王建国"
    assert opened["unit"] == UNIT
    assert opened["due_at"] == "2023-09-06T03:00:00Z"
    assert responded["responded_by"] == "wangjg"
    assert responded["response"] == "已约谈企业，承诺9月30日前开工"
    assert done["closed_by"] == "district-official"
    assert [i["project_name"] for i in await open_list(r, park=where)] == ["无人反馈项目"]

    # The other item is acknowledged (reminders stop) but never answered: on Wednesday 11:00 it
    # is overdue and climbs to the sponsor leader, with a new due time 3 working days on.
    stale = items["无人反馈项目"]
    ack = await r.client.post(f"/v1/alerts/{ignored.alert_key}/ack")
    assert ack.status_code == 200
    r.clock.set(dt.datetime(2023, 9, 6, 3, 0, tzinfo=dt.UTC))
    events = await r.supervision_events(
        stale["id"],
        [
            "sanpi.notification.supervision_opened.v1",
            "sanpi.notification.supervision_overdue.v1",
        ],
    )
    overdue = events[1]["data"]
    assert overdue["level"] == 2
    assert overdue["contact_name"] == "李明"
    assert overdue["was_due_at"] == "2023-09-06T03:00:00Z"
    assert overdue["due_at"] == "2023-09-11T03:00:00Z"
    [mail] = await eventually(lambda: smtp.to("liming@gov.example.cn"), what="re-escalation")
    assert mail["Subject"] == "【督办·第2级·逾期第1次】无人反馈项目：签约后未开工"
    [again] = await open_list(r, park=where)
    assert (again["level"], again["overdue_count"], again["contact_name"]) == (2, 1, "李明")
