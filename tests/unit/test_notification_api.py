"""The notification API in-process (no broker): subscriptions, filters at fan-out, inbox, dead
letters, rotation, de-duplication, outcome events in the outbox, metrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.v1.http import from_http as legacy_from_http
from prometheus_client import REGISTRY
from sqlmodel import delete
from standardwebhooks import Webhook

from sanpi.events import (
    CONTENT_TYPE,
    BatchType,
    ChainTag,
    KafkaRecord,
    ProjectListed,
    ProjectRegistered,
    ProjectStageChanged,
    ProjectUpdated,
    Severity,
    Stage,
)
from sanpi.kit import Role, issue_token
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.notification.routing.models import ProjectView
from tests.support.apps import auth
from tests.support.notification import MILESTONE_SOURCE, Harness, alert, harness, record
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:
        yield running


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def subscribe(h: Harness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_subscription_crud_with_if_match(h: Harness, sink: WebhookSink) -> None:
    created = await subscribe(
        h,
        channel="webhook",
        url=sink.url,
        event_types=["sanpi.alert.*"],
        min_severity="yellow",
        parks=["梧桐"],
        chain_tags=["IOT"],
        categories=["ADVANCED_MANUFACTURING"],
        periods=[7],
        project_ids=["p1"],
        min_investment=100_000,
        quiet_hours={"start": "22:00", "end": "07:00"},
        language="en",
        escalation_contacts={"unit_head": "wang@wutong.example.cn"},
    )
    assert created["secret"].startswith("whsec_")
    assert created["owner"] == "officer"
    assert created["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    url = f"/v1/subscriptions/{created['id']}"

    fetched = await h.client.get(url)
    assert fetched.headers["etag"] == '"1"'
    assert "secret" not in fetched.json()
    assert fetched.json()["escalation_contacts"]["unit_head"] == "wang@wutong.example.cn"

    stale = await h.client.patch(url, json={"parks": ["石佛"]}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["detail"].startswith("订阅已被他人修改：当前是第 1 版，不是第 7 版")
    patched = await h.client.patch(
        url, json={"parks": ["石佛"], "quiet_hours": None}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["parks"] == ["石佛"]
    assert patched.json()["quiet_hours"] is None
    assert patched.json()["min_severity"] == "yellow"
    assert patched.headers["etag"] == '"2"'

    listed = (await h.client.get("/v1/subscriptions")).json()["items"]
    assert [s["id"] for s in listed] == [created["id"]]

    stranger = auth(Role.VIEWER, subject="someone-else")
    assert (await h.client.get(url, headers=stranger)).status_code == 404
    assert (await h.client.get("/v1/subscriptions", headers=stranger)).json()["items"] == []
    assert (await h.client.delete(url, headers=stranger)).status_code == 404
    assert (await h.client.delete(url)).status_code == 204
    assert (await h.client.get(url)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "webhook"}, "url"),
        ({"channel": "email"}, "email"),
        ({"channel": "email", "email": "not-an-address"}, "email"),
        ({"channel": "inbox", "url": "http://127.0.0.1/x"}, "url"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "inbox", "min_severity": "RED"}, "min_severity"),
        ({"channel": "inbox", "chain_tags": ["STEEL"]}, "chain_tags.0"),
        ({"channel": "inbox", "periods": [0]}, "periods.0"),
        ({"channel": "inbox", "min_investment": -1}, "min_investment"),
        ({"channel": "inbox", "event_types": ["sanpi.nothing.*"]}, "event_types"),
        (
            {"channel": "inbox", "quiet_hours": {"start": "25:00", "end": "07:00"}},
            "quiet_hours.start",
        ),
        ({"channel": "inbox", "quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours"),
        ({"channel": "inbox", "language": "fr"}, "language"),
        ({"channel": "inbox", "escalation_contacts": {"boss": "x"}}, "escalation_contacts.boss"),
    ],
)
async def test_bad_subscriptions_are_problems_naming_the_field(
    h: Harness, body: dict[str, Any], field: str
) -> None:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in problem(response)["errors"]]


async def test_loopback_targets_are_refused_unless_allowed(tmp_path: Path) -> None:
    async with harness(tmp_path, allow_loopback_targets=False) as h:
        response = await h.client.post(
            "/v1/subscriptions", json={"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
        )
        assert response.status_code == 422
        assert problem(response)["errors"][0]["field"] == "url"
        assert "不是公网地址" in problem(response)["errors"][0]["reason"]


async def test_refused_targets_and_stream_filters_read_in_the_readers_language(
    tmp_path: Path,
) -> None:
    # Chinese unless the request asks for English; never both in one text.
    en = {"Accept-Language": "en"}
    async with harness(tmp_path, allow_loopback_targets=False) as h:
        hook = {"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
        zh = problem(await h.client.post("/v1/subscriptions", json=hook))
        assert zh["detail"] == "「url」：地址 127.0.0.1：不是公网地址"
        assert zh["errors"] == [{"field": "url", "reason": "地址 127.0.0.1：不是公网地址"}]
        english = problem(await h.client.post("/v1/subscriptions", json=hook, headers=en))
        assert english["detail"] == "url: address 127.0.0.1: not a public address"
        gopher = {"channel": "webhook", "url": "gopher://example.cn/hook"}
        assert problem(await h.client.post("/v1/subscriptions", json=gopher))["errors"] == [
            {
                "field": "url",
                "reason": '网址应以 http 或 https 开头，收到 "gopher://example.cn/hook"',
            }
        ]

        typo = {"event_type": "sanpi.nothing.*"}
        stream_zh = await h.client.get("/v1/stream", params=typo)
        assert stream_zh.status_code == 422
        assert problem(stream_zh)["errors"] == [
            {"field": "event_type", "reason": '"sanpi.nothing.*" 不匹配任何事件类型'}
        ]
        stream_en = problem(await h.client.get("/v1/stream", params=typo, headers=en))
        assert stream_en["detail"] == 'event_type: "sanpi.nothing.*" matches no event type'
        unknown = problem(await h.client.get("/v1/stream", params={"event_type": "sanpi.x"}))
        assert unknown["errors"][0]["reason"] == '没有这种事件类型："sanpi.x"'

        body = {"channel": "inbox", "event_types": ["sanpi.x"]}
        subscribed = problem(await h.client.post("/v1/subscriptions", json=body))
        assert subscribed["errors"][0]["reason"] == '没有这种事件类型："sanpi.x"'
        quiet = {"channel": "inbox", "quiet_hours": {"start": "07:00", "end": "07:00"}}
        same = problem(await h.client.post("/v1/subscriptions", json=quiet, headers=en))
        assert same["errors"][0]["reason"] == "start and end must differ"
        same_zh = problem(await h.client.post("/v1/subscriptions", json=quiet))
        assert same_zh["errors"][0]["reason"] == "免打扰时段的开始和结束不能相同"


async def test_filters_select_alerts_and_project_events_by_project_attributes(
    h: Harness, sink: WebhookSink
) -> None:
    await subscribe(h, channel="webhook", url=sink.url, parks=["石佛"], min_severity="orange")
    await subscribe(
        h,
        channel="webhook",
        url=sink.url,
        event_types=["sanpi.project.stage_changed.v1"],
        chain_tags=["IOT"],
        periods=[7],
        min_investment=100_000,
    )
    await h.feed(alert(Severity.YELLOW, park="石佛", project_name="黄灯项目"))
    await h.feed(alert(Severity.RED, park="梧桐", project_name="梧桐项目"))
    orange = await h.feed(alert(Severity.ORANGE, park="石佛", project_name="橙灯项目"))

    # Project events carry no park or chain: the service's projection supplies them.
    source = "/sanpi/registry"
    for project_id, chain, period in (("p-iot", ChainTag.IOT, 7), ("p-bd", ChainTag.BEIDOU, 7)):
        await h.feed(
            ProjectRegistered(
                project_id=project_id,
                version=1,
                name=f"项目{project_id}",
                park="双桥",
                total_investment=120_000,
                chain_tag=chain,
                stage=Stage.SIGNED,
            ),
            source,
        )
        await h.feed(
            ProjectListed(
                project_id=project_id,
                period=period,
                batch=BatchType.SIGN,
                listed_total_investment=120_000,
            ),
            source,
        )
    changed = await h.feed(
        ProjectStageChanged(
            project_id="p-iot",
            from_stage=Stage.SIGNED,
            to_stage=Stage.UNDER_CONSTRUCTION,
            effective_date="2023-09-01",
            reason="MILESTONE",
            changed_by="operator",
        )
    )
    await h.feed(
        ProjectStageChanged(
            project_id="p-bd",
            from_stage=Stage.SIGNED,
            to_stage=Stage.UNDER_CONSTRUCTION,
            effective_date="2023-09-01",
            reason="MILESTONE",
            changed_by="operator",
        )
    )

    h.clock.advance(dt.timedelta(seconds=10))  # the orange alert's grouping window closes

    def received() -> set[str]:
        return {json.loads(r.body)["id"] for r in sink.accepted()}

    await eventually(lambda: received() == {orange.id, changed.id}, what="the two matches")
    assert len(sink.accepted()) == 2


async def test_a_redelivered_record_never_notifies_twice(h: Harness, sink: WebhookSink) -> None:
    sub = await subscribe(h, channel="webhook", url=sink.url)
    _event, kafka = record(alert(Severity.RED))
    assert await h.feed_record(kafka) == "processed"
    assert await h.feed_record(kafka) == "duplicate"
    # Even with the consumer's inbox wiped (a rebuild), the (subscription, event) pair holds.
    async with h.runtime.db.transaction() as uow:
        session = uow.session
        await session.exec(delete(ProcessedEvent))
    assert await h.feed_record(kafka) == "processed"
    await eventually(lambda: len(sink.accepted()) == 1, what="one delivery")
    assert len(await h.deliveries(subscription=sub["id"])) == 1


async def test_inbox_lists_rendered_items_and_acknowledges_them(h: Harness) -> None:
    inbox = await subscribe(h, channel="inbox", language="zh")
    raised = await h.feed(alert(Severity.RED, park="枫杨"))

    async def items() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await h.client.get("/v1/inbox")).json()["items"]
        return found

    [item] = await eventually(items, what="inbox item")
    assert item["subscription_id"] == inbox["id"]
    assert item["subject"] == "【红色预警】雄韬氢能产业园：签约后未开工"
    assert item["event_ids"] == [raised.id]
    assert item["acknowledged_at"] is None

    stranger = auth(Role.VIEWER, subject="someone-else")
    assert (await h.client.get("/v1/inbox", headers=stranger)).json()["items"] == []
    assert (await h.client.post(f"/v1/inbox/{item['id']}/ack", headers=stranger)).status_code == 404

    acked = await h.client.post(f"/v1/inbox/{item['id']}/ack")
    assert acked.status_code == 200
    assert acked.json()["acknowledged_by"] == "officer"
    again = await h.client.post(f"/v1/inbox/{item['id']}/ack")
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    assert (await h.client.get("/v1/inbox", params={"unacknowledged": True})).json()["items"] == []
    [ack_event] = await h.outbox("sanpi.notification.acknowledged.v1")
    assert ack_event["notification_id"] == item["id"]
    assert (await h.client.post("/v1/inbox/msg_nope/ack")).status_code == 404


async def test_dead_letters_after_the_last_attempt_then_replay(
    h: Harness, sink: WebhookSink
) -> None:
    sink.default = 500
    sub = await subscribe(h, channel="webhook", url=sink.url)
    raised = await h.feed(alert(Severity.RED))

    async def dead() -> list[dict[str, Any]]:
        h.clock.advance(dt.timedelta(seconds=1))  # retries are due on the service's clock
        return await h.deliveries(status="DEAD")

    [letter] = await eventually(dead, what="dead letter")
    assert letter["attempts"] == 4  # delivery_max_attempts
    assert [a["status_code"] for a in letter["attempt_log"]] == [500] * 4
    failed = await h.outbox("sanpi.notification.failed.v1")
    assert [f["final"] for f in failed] == [False, False, False, True]
    assert failed[-1]["event_ids"] == [raised.id]

    sink.default = 204
    replayed = await h.client.post("/v1/dead-letters/replay", json={"subscription_id": sub["id"]})
    assert replayed.status_code == 200
    assert replayed.json() == {"replayed": [letter["id"]], "skipped": []}

    async def delivered() -> list[dict[str, Any]]:
        return await h.deliveries(status="DELIVERED")

    [done] = await eventually(delivered, what="replayed delivery")
    assert [a["status_code"] for a in done["attempt_log"]] == [500, 500, 500, 500, 204]
    [outcome] = await h.outbox("sanpi.notification.delivered.v1")
    assert outcome["notification_id"] == letter["id"]
    assert outcome["attempts"] == 5
    assert len(sink.accepted()) == 1

    metrics = (await h.client.get("/metrics")).text
    assert 'sanpi_notifications_total{channel="webhook",outcome="delivered"}' in metrics
    assert 'sanpi_notifications_total{channel="webhook",outcome="dead"}' in metrics
    assert "sanpi_notification_delivery_latency_seconds_bucket" in metrics
    assert "sanpi_notification_retry_queue_depth" in metrics
    assert "sanpi_notification_dead_letters " in metrics
    assert sub["id"] not in metrics


async def test_receiver_gone_disables_and_sustained_failure_disables(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(
        tmp_path,
        endpoint_disable_min_failures=3,
        endpoint_disable_after_s=0,
        delivery_max_attempts=10,
    ) as h:
        sink.default = 503
        failing = await subscribe(h, channel="webhook", url=sink.url)
        await h.feed(alert(Severity.RED))

        async def disabled() -> list[dict[str, Any]]:
            h.clock.advance(dt.timedelta(seconds=1))
            return await h.outbox("sanpi.notification.endpoint_disabled.v1")

        [event] = await eventually(disabled, what="endpoint disabled")
        assert event["subscription_id"] == failing["id"]
        assert event["owner"] == "officer"
        assert "3 failed attempts in a row" in event["reason"]
        fetched = (await h.client.get(f"/v1/subscriptions/{failing['id']}")).json()
        assert fetched["active"] is False
        [letter] = await h.deliveries(status="DEAD")
        assert letter["attempts"] == 3

        # Dead letters of a disabled subscription stay dead until it is re-enabled.
        skipped = (await h.client.post("/v1/dead-letters/replay", json={})).json()
        assert skipped["skipped"] == [{"id": letter["id"], "reason": "subscription disabled"}]
        enabled = await h.client.patch(f"/v1/subscriptions/{failing['id']}", json={"active": True})
        assert enabled.json()["active"] is True
        assert enabled.json()["disabled_reason"] is None


async def test_a_410_disables_the_subscription_at_once(h: Harness, sink: WebhookSink) -> None:
    sink.default = 410
    gone = await subscribe(h, channel="webhook", url=sink.url)
    await h.feed(alert(Severity.RED))
    [event] = await eventually(
        lambda: h.outbox("sanpi.notification.endpoint_disabled.v1"), what="disabled"
    )
    assert event["reason"] == "receiver answered 410 Gone"
    assert len(sink.snapshot()) == 1  # no retry after 410
    fetched = (await h.client.get(f"/v1/subscriptions/{gone['id']}")).json()
    assert fetched["active"] is False


async def test_rotation_signs_with_both_secrets_until_the_grace_ends(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, secret_rotation_grace_s=3600) as h:
        sub = await subscribe(h, channel="webhook", url=sink.url)
        old = sub["secret"]
        rotated = await h.client.post(f"/v1/subscriptions/{sub['id']}/rotate-secret")
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new != old
        assert rotated.json()["previous_secret_expires_at"] == "2023-09-01T03:00:00Z"

        await h.feed(alert(Severity.RED))
        [during] = await eventually(sink.accepted, what="delivery during rotation")
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert Webhook(old).verify(during.body, during.headers)
        assert Webhook(new).verify(during.body, during.headers)

        h.clock.advance(dt.timedelta(hours=1))
        later = await h.feed(alert(Severity.RED))

        def after_rotation() -> list[Any]:
            return [r for r in sink.accepted() if json.loads(r.body).get("id") == later.id]

        [after] = await eventually(after_rotation, what="delivery after rotation")
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert Webhook(new).verify(after.body, after.headers)
        with pytest.raises(Exception, match=r"(?i)signature"):
            Webhook(old).verify(after.body, after.headers)


async def test_a_subscription_hears_what_happens_after_it_was_made(
    tmp_path: Path, sink: WebhookSink
) -> None:
    # A replay of old topics (a rebuilt projection, a new consumer group) must not flood a
    # subscription with events from before it existed.
    async with harness(tmp_path) as h:
        created = await h.client.post(
            "/v1/subscriptions",
            json={"channel": "webhook", "url": sink.url, "event_types": ["sanpi.alert.*"]},
        )
        assert created.status_code == 201
        old_event, old_record = record(alert(Severity.RED), MILESTONE_SOURCE)
        body = json.loads(old_record.value)
        body["time"] = "2023-09-01T02:00:00Z"  # long before the subscription
        await h.feed_record(
            KafkaRecord(
                old_record.topic, old_record.key, json.dumps(body).encode(), old_record.headers
            )
        )
        fresh = await h.feed(alert(Severity.RED))
        await eventually(
            lambda: [r for r in sink.accepted() if json.loads(r.body)["id"] == fresh.id],
            what="the fresh alert delivered",
        )
        assert [json.loads(r.body)["id"] for r in sink.accepted()] == [fresh.id]
        assert old_event.id not in {e for d in await h.deliveries() for e in d["event_ids"]}


async def test_the_live_stream_ends_when_its_token_expires(h: Harness) -> None:
    """A stream outlives no token: it closes at the token's exp, with a last comment saying so."""
    brief = issue_token(
        DEV_JWT_SECRET, subject="officer", role=Role.ADMIN, ttl=dt.timedelta(seconds=2)
    )
    response = await asyncio.wait_for(
        h.client.get("/v1/stream", headers={"Authorization": f"Bearer {brief}"}), timeout=30
    )
    assert response.status_code == 200
    assert response.text.startswith(": sanpi stream")
    assert response.text.rstrip().endswith(": token expired")


async def test_the_project_view_takes_only_newer_snapshots(h: Harness) -> None:
    source = "/sanpi/registry"

    def snapshot(version: int, park: str) -> ProjectUpdated:
        return ProjectUpdated(
            project_id="p-late", version=version, name=f"v{version}", park=park, total_investment=1
        )

    stale = REGISTRY.get_sample_value(
        "sanpi_events_stale_total", {"type": "sanpi.project.updated.v1"}
    )
    await h.feed(snapshot(1, "双桥"), source)
    await h.feed(snapshot(3, "梧桐"), source)
    await h.feed(snapshot(2, "石佛"), source)  # late (dead-lettered, then redriven)
    await h.feed(snapshot(3, "枫杨"), source)  # the same version again: not newer
    async with h.runtime.db.read() as session:
        view = await session.get(ProjectView, "p-late")
    assert view is not None
    assert (view.version, view.name, view.park) == (3, "v3", "梧桐")
    after = REGISTRY.get_sample_value(
        "sanpi_events_stale_total", {"type": "sanpi.project.updated.v1"}
    )
    assert (after or 0) - (stale or 0) == 2


async def test_a_webhook_of_one_event_is_a_structured_cloudevent_the_sdk_reads(
    h: Harness, sink: WebhookSink
) -> None:
    await subscribe(h, channel="webhook", url=sink.url, event_types=[ProjectStageChanged.TYPE])
    changed = await h.feed(
        ProjectStageChanged(
            project_id="p-sdk",
            from_stage=Stage.SIGNED,
            to_stage=Stage.UNDER_CONSTRUCTION,
            effective_date="2023-09-01",
            reason="MILESTONE",
            changed_by="operator",
            version=1,
        )
    )
    await eventually(lambda: len(sink.accepted()) == 1, what="the webhook")
    (received,) = sink.accepted()
    assert received.headers["content-type"] == CONTENT_TYPE
    assert not [name for name in received.headers if name.startswith("ce-")]
    read = ce_http.from_http_event(
        ce_http.HTTPMessage(headers=received.headers, body=received.body)
    )
    assert (read.get_id(), read.get_type(), read.get_source()) == (
        changed.id,
        changed.type,
        changed.source,
    )
    assert read.get_data() == changed.data
    # The SDK's older API (cloudevents.v1) reads it too.
    assert legacy_from_http(received.headers, received.body)["id"] == changed.id
