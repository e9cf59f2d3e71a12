"""Delivery batches (issue 8): a claimed batch is recorded in one transaction, delivery by
delivery, with the same outcome as one transaction per delivery."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event as sa_event
from sqlmodel import col, delete, select

from sanpi.events import (
    AlertResolved,
    CloudEvent,
    EventData,
    NotificationDelivered,
    NotificationEndpointDisabled,
    NotificationFailed,
    ProgressReported,
    ProjectRegistered,
    ReportPeriodKind,
    Severity,
    Stage,
)
from sanpi.kit.dedup import ProcessedEvent
from sanpi.notification.channels import templates
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.delivery import repository, service
from sanpi.notification.delivery.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryStatus,
)
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream.models import StreamEvent
from sanpi.notification.subscriptions.models import Subscription
from tests.conftest import TEST_DB
from tests.support.notification import (
    SHANGHAI_10AM,
    Harness,
    alert,
    as_consumed,
    harness,
)
from tests.support.notification import record as as_record

pytestmark = pytest.mark.asyncio

# The harness clock stands at 10:00 in Shanghai, inside these quiet hours: the worker (on the
# harness clock) leaves the deliveries alone and the test claims them after 11:00 itself.
QUIET = {"start": "09:00", "end": "11:00"}
AFTER_QUIET = dt.datetime(2023, 9, 1, 3, 1, tzinfo=dt.UTC)
# The harness seals secrets with the development key (its settings): the claims open with it.
BOX = NotificationSettings().secret_box


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:
        yield running


async def subscribe(h: Harness) -> str:
    body = {"channel": "webhook", "url": "http://127.0.0.1:9/hook", "quiet_hours": QUIET}
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    subscription_id: str = response.json()["id"]
    return subscription_id


async def queue(h: Harness, count: int) -> None:
    for i in range(count):
        await h.feed(
            ProjectRegistered(
                project_id=f"p{i}",
                version=1,
                name="n",
                park="梧桐",
                total_investment=1,
                stage=Stage.SIGNED,
            ),
            source="/sanpi/registry",
        )


async def claim(h: Harness) -> list[service.Claimed]:
    batch = await service.claim_due(h.runtime.db, now=AFTER_QUIET, limit=100, lease_s=60, box=BOX)
    return batch.claimed


async def record_attempts(
    h: Harness, done: list[tuple[service.Claimed, AttemptResult]]
) -> list[DeliveryStatus]:
    settings = h.runtime.settings
    assert isinstance(settings, NotificationSettings)
    return await service.record_results(
        h.runtime.db, done, settings=settings, now=AFTER_QUIET, rng=random.Random(1)
    )


async def rows(h: Harness) -> tuple[dict[str, Delivery], list[DeliveryAttempt], list[Subscription]]:
    async with h.runtime.db.read() as session:
        deliveries = {d.id: d for d in (await session.exec(select(Delivery))).all()}
        attempts = list(
            (await session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.id)))).all()
        )
        subscriptions = list((await session.exec(select(Subscription))).all())
    return deliveries, attempts, subscriptions


FAILED = AttemptResult(500, "HTTP 500", None, 3)


async def test_one_failure_in_a_batch_still_marks_the_others(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 3)
    claimed = await claim(h)
    assert len(claimed) == 3
    assert [c.attempt for c in claimed] == [1, 1, 1]
    ok = AttemptResult.ok(204, 2)

    statuses = await record_attempts(h, [(claimed[0], ok), (claimed[1], FAILED), (claimed[2], ok)])

    assert statuses == ["DELIVERED", "PENDING", "DELIVERED"]
    deliveries, attempts, (subscription,) = await rows(h)
    assert [deliveries[c.delivery_id].status for c in claimed] == statuses
    assert deliveries[claimed[0].delivery_id].delivered_at == AFTER_QUIET
    failed = deliveries[claimed[1].delivery_id]
    assert failed.last_error == "HTTP 500"
    assert failed.next_attempt_at > AFTER_QUIET
    assert [(a.delivery_id, a.status_code) for a in attempts] == [
        (claimed[0].delivery_id, 204),
        (claimed[1].delivery_id, 500),
        (claimed[2].delivery_id, 204),
    ]
    # The success after the failure reset the endpoint's failure count, as in delivery order.
    assert subscription.consecutive_failures == 0
    assert subscription.failing_since is None
    assert len(await h.outbox(NotificationDelivered.TYPE)) == 2
    assert len(await h.outbox(NotificationFailed.TYPE)) == 1


async def test_failures_of_one_endpoint_in_a_batch_add_up(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 3)
    claimed = await claim(h)

    statuses = await record_attempts(h, [(c, FAILED) for c in claimed])

    assert statuses == ["PENDING"] * 3
    _deliveries, attempts, (subscription,) = await rows(h)
    assert len(attempts) == 3
    assert subscription.consecutive_failures == 3
    assert subscription.failing_since == AFTER_QUIET
    assert subscription.active


async def test_a_gone_endpoint_disables_the_subscription_once_in_a_batch(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 2)
    claimed = await claim(h)
    gone = AttemptResult(410, "HTTP 410", None, 1, gone=True)

    statuses = await record_attempts(h, [(claimed[0], gone), (claimed[1], gone)])

    # The first 410 disables the endpoint and dead-letters its delivery. The second meets a
    # disabled endpoint: it is not disabled twice, and its retry is dead-lettered by the claim.
    assert statuses == ["DEAD", "PENDING"]
    _deliveries, _attempts, (subscription,) = await rows(h)
    assert not subscription.active
    assert subscription.disabled_reason == "receiver answered 410 Gone"
    assert subscription.updated_at == AFTER_QUIET
    assert len(await h.outbox(NotificationEndpointDisabled.TYPE)) == 1
    retry = dt.timedelta(hours=1)
    assert (
        await service.claim_due(h.runtime.db, now=AFTER_QUIET + retry, limit=9, lease_s=60, box=BOX)
    ).claimed == []
    deliveries, _attempts, _subscriptions = await rows(h)
    assert deliveries[claimed[1].delivery_id].status == "DEAD"


async def test_a_batch_that_cannot_commit_is_recorded_one_by_one(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(h)
    await queue(h, 3)
    claimed = await claim(h)
    real = repository.insert_attempts

    async def refuse_batches(session: Any, rows: Any) -> None:
        if len(rows) > 1:
            raise RuntimeError("a batch write failed")
        await real(session, rows)

    monkeypatch.setattr(repository, "insert_attempts", refuse_batches)
    ok = AttemptResult.ok(204, 2)

    statuses = await record_attempts(h, [(claimed[0], ok), (claimed[1], FAILED), (claimed[2], ok)])

    assert statuses == ["DELIVERED", "PENDING", "DELIVERED"]
    deliveries, attempts, _subscriptions = await rows(h)
    assert [deliveries[c.delivery_id].status for c in claimed] == statuses
    assert len(attempts) == 3
    # The failed batch left nothing behind: one outcome event per delivery.
    assert len(await h.outbox(NotificationDelivered.TYPE)) == 2
    assert len(await h.outbox(NotificationFailed.TYPE)) == 1


async def test_a_claim_takes_a_batch_and_says_whether_it_was_full(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 3)
    db = h.runtime.db
    queued, _attempts, _subscriptions = await rows(h)

    first = await service.claim_due(db, now=AFTER_QUIET, limit=2, lease_s=60, box=BOX)
    second = await service.claim_due(db, now=AFTER_QUIET, limit=2, lease_s=60, box=BOX)
    third = await service.claim_due(db, now=AFTER_QUIET, limit=2, lease_s=60, box=BOX)

    assert (len(first.claimed), first.full) == (2, True)
    assert (len(second.claimed), second.full) == (1, False)
    assert (third.claimed, third.full) == ([], False)
    deliveries, _attempts, _subscriptions = await rows(h)
    # Each under its lease (real time), its due time as it was.
    assert all(
        d.attempts == 1
        and d.leased_until is not None
        and d.next_attempt_at == queued[d.id].next_attempt_at
        for d in deliveries.values()
    )


# --- a consumer batch: new deliveries and stream rows are written at commit ----------------------


async def consume(h: Harness, *events: EventData) -> list[CloudEvent]:
    """Applies the events as one fetched batch: one transaction (EventConsumer.process_many)."""
    built = [as_record(data) for data in events]
    assert h.runtime.consumer is not None
    await h.runtime.consumer.process_many([as_consumed(kafka) for _e, kafka in built])
    return [event for event, _k in built]


async def test_an_alert_resolved_in_the_batch_that_raised_it_cancels_its_notification(
    h: Harness,
) -> None:
    await subscribe(h)
    yellow = alert(Severity.YELLOW)

    await consume(h, yellow, AlertResolved(**yellow.model_dump(), resolved_at=SHANGHAI_10AM))

    statuses = sorted(d["status"] for d in await h.deliveries())
    # The raise, held by quiet hours, is cancelled; the resolution itself waits for 11:00.
    assert statuses == ["CANCELLED", "PENDING"]


async def test_alerts_of_one_pass_in_one_batch_are_one_message(h: Harness) -> None:
    await subscribe(h)
    alerts = [alert(Severity.YELLOW, evaluation_id="eval-1") for _ in range(5)]

    await consume(h, *alerts)

    (digest,) = await h.deliveries()
    assert digest["kind"] == "DIGEST"
    assert len(digest["event_ids"]) == 5


async def test_one_event_twice_in_a_batch_is_one_notification_and_one_stream_entry(
    h: Harness,
) -> None:
    await subscribe(h)
    event, kafka = as_record(alert(Severity.RED))
    # The same event id from another source: the inbox tells them apart, routing must not.
    _again, twin = as_record(alert(Severity.RED), source="/sanpi/elsewhere")
    twin_value = json.loads(twin.value)
    twin_value["id"] = event.id
    twin = dataclasses.replace(twin, value=json.dumps(twin_value).encode())
    assert h.runtime.consumer is not None

    await h.runtime.consumer.process_many([as_consumed(kafka), as_consumed(twin)])

    assert [d["event_ids"] for d in await h.deliveries()] == [[event.id]]
    async with h.runtime.db.read() as session:
        logged = (await session.exec(select(StreamEvent.event_id))).all()
    assert logged == [event.id]


# --- a consumer batch: one statement each for its projects' routing and its routed check --------


@contextmanager
def statements(h: Harness) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = h.runtime.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)


def progress(project_id: str, month: int = 8) -> ProgressReported:
    return ProgressReported(
        project_id=project_id,
        report_id=f"r-{project_id}-{month}",
        period_kind=ReportPeriodKind.MONTH,
        period_key=f"2023-{month:02d}",
        completed_investment_cum=100,
        completed_investment_ytd=50,
        reported_by="tester",
    )


def registered(project_id: str, park: str = "梧桐") -> ProjectRegistered:
    return ProjectRegistered(
        project_id=project_id,
        version=1,
        name=f"项目 {project_id}",
        park=park,
        total_investment=1,
        stage=Stage.SIGNED,
    )


async def consume_records(h: Harness, records: list[Any]) -> None:
    assert h.runtime.consumer is not None
    await h.runtime.consumer.process_many([as_consumed(kafka) for kafka in records])


async def test_a_batch_reads_the_routing_of_its_projects_in_one_statement(h: Harness) -> None:
    await subscribe(h)
    projects = [f"p{i}" for i in range(5)]
    await consume(h, *(registered(p) for p in projects))

    with statements(h) as seen:
        reports = await consume(h, *(progress(p) for p in projects))

    assert len([s for s in seen if "FROM notification_project_view" in s]) == 1
    deliveries = await h.deliveries()
    by_event = {d["event_ids"][0]: d for d in deliveries}
    assert all(e.id in by_event for e in reports)
    # Each notification still names its project: the prefetched routing is the right one.
    async with h.runtime.db.read() as session:
        carried = dict(
            (await session.exec(select(DeliveryEvent.event_id, DeliveryEvent.project_name))).all()
        )
    assert [carried[e.id] for e in reports] == [f"项目 {p}" for p in projects]


async def test_a_project_registered_in_the_batch_routes_the_events_after_it(h: Harness) -> None:
    body = {"channel": "inbox", "parks": ["双桥"], "quiet_hours": QUIET}
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text

    _before, registration, report = await consume(
        h, progress("p-new", 7), registered("p-new", park="双桥"), progress("p-new")
    )

    # The first report came before the projection knew the park; the second is routed by it.
    carried = sorted(e for d in await h.deliveries() for e in d["event_ids"])
    assert carried == sorted([registration.id, report.id])


async def test_a_replayed_batch_is_checked_in_one_statement_and_notifies_nothing_twice(
    h: Harness,
) -> None:
    await subscribe(h)
    built = [as_record(progress(f"p{i}")) for i in range(3)]
    await consume_records(h, [kafka for _e, kafka in built])
    # The consumer's inbox wiped (a rebuild): only the (subscription, event) pairs remain.
    async with h.runtime.db.transaction() as uow:
        session = uow.session
        await session.exec(delete(ProcessedEvent))
    fresh_event, fresh = as_record(progress("p9"))

    with statements(h) as seen:
        await consume_records(h, [kafka for _e, kafka in built] + [fresh])

    assert len([s for s in seen if "FROM delivery_event" in s]) == 1
    carried = sorted(e for d in await h.deliveries() for e in d["event_ids"])
    assert carried == sorted([e.id for e, _k in built] + [fresh_event.id])


async def test_one_plain_event_twice_in_a_batch_is_one_notification(h: Harness) -> None:
    await subscribe(h)
    event, kafka = as_record(progress("p1"))
    # The same event id from another source: the inbox tells them apart, routing must not.
    _again, twin = as_record(progress("p2"), source="/sanpi/elsewhere")
    twin_value = json.loads(twin.value)
    twin_value["id"] = event.id
    twin = dataclasses.replace(twin, value=json.dumps(twin_value).encode())

    await consume_records(h, [kafka, twin])

    assert [d["event_ids"] for d in await h.deliveries()] == [[event.id]]


async def test_a_claim_and_its_outcomes_read_their_subscriptions_apart_once_each(
    h: Harness,
) -> None:
    await subscribe(h)
    await queue(h, 3)

    with statements(h) as claiming:
        claimed = await claim(h)
    with statements(h) as recording:
        statuses = await record_attempts(h, [(c, FAILED) for c in claimed])

    # The due deliveries and, for the outcomes, the claimed ones are read alone, then their
    # subscriptions by id: joined, every delivery row of a full batch parsed its subscription's
    # JSON columns again. (The harness's delivery worker runs meanwhile: its statements are in
    # the lists too.)
    for seen in (claiming, recording):
        assert not [s for s in seen if "JOIN subscription" in s]
        assert [s for s in seen if s.startswith("SELECT delivery.id")]
        assert [
            s for s in seen if s.startswith("SELECT subscription.") and "subscription.id IN" in s
        ]
    assert statuses == ["PENDING"] * 3
    _deliveries, _attempts, (subscription,) = await rows(h)
    assert subscription.consecutive_failures == 3


async def test_a_claim_ends_the_deliveries_of_a_deleted_subscription(h: Harness) -> None:
    subscription_id = await subscribe(h)
    await queue(h, 2)
    response = await h.client.delete(f"/v1/subscriptions/{subscription_id}")
    assert response.status_code == 204, response.text

    assert await claim(h) == []

    deliveries, _attempts, _subscriptions = await rows(h)
    assert [(d.status, d.last_error) for d in deliveries.values()] == [
        ("CANCELLED", "subscription deleted")
    ] * 2


@pytest.mark.skipif(TEST_DB == "postgres", reason="SQLite's query plan; PostgreSQL has statistics")
async def test_a_claim_walks_the_pending_deliveries_by_due_time_without_sorting_them(
    h: Harness,
) -> None:
    await subscribe(h)
    await queue(h, 3)
    captured: list[tuple[str, Any]] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if (
            statement.lstrip().startswith("SELECT delivery.id")
            and "next_attempt_at <=" in statement
        ):
            captured.append((statement, parameters))

    engine = h.runtime.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", on_statement)
    try:
        assert len(await claim(h)) == 3
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)

    statement, parameters = captured[0]
    async with h.runtime.db.read() as session:
        connection = await session.connection()
        found = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " | ".join(str(row.detail) for row in found)
    # Without the partial index (and the planner's hint) SQLite took the status index and
    # sorted every pending row for each claim: 40 ms at 10,000 pending.
    assert "USING INDEX ix_delivery_pending_due" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


# --- leases: two claimers (lanes or replicas), the first one's lease ends mid-send ---------------

LEASE_S = 60.0
# The rules' clock jumps days, as the digest tests' does between slots.
DAYS_LATER = AFTER_QUIET + dt.timedelta(days=2)
OK = AttemptResult.ok(204, 2)


async def claim_at(h: Harness, now: dt.datetime, real_now: dt.datetime) -> list[service.Claimed]:
    batch = await service.claim_due(
        h.runtime.db, now=now, limit=100, lease_s=LEASE_S, box=BOX, real_now=real_now
    )
    return batch.claimed


def stale_outcomes() -> float:
    found = REGISTRY.get_sample_value(
        "sanpi_notification_stale_outcomes_total", {"channel": "webhook"}
    )
    return found or 0.0


async def retaken(h: Harness) -> tuple[service.Claimed, service.Claimed, dt.datetime]:
    """One delivery claimed, then claimed again by a second claimer once the first one's lease
    has run out on real time (the first one's send still in flight): (first, second, real)."""
    await subscribe(h)
    await queue(h, 1)
    real = dt.datetime.now(dt.UTC)
    (first,) = await claim_at(h, AFTER_QUIET, real)
    # Days later on the rules' clock, seconds later on the real one: the lease holds.
    assert await claim_at(h, DAYS_LATER, real + dt.timedelta(seconds=LEASE_S / 2)) == []
    (second,) = await claim_at(h, DAYS_LATER, real + dt.timedelta(seconds=LEASE_S + 1))
    assert (second.delivery_id, second.attempt) == (first.delivery_id, 2)
    assert second.lease_token != first.lease_token
    return first, second, real


async def test_a_claim_that_outlived_its_lease_records_nothing_over_the_claim_that_retook_it(
    h: Harness,
) -> None:
    first, second, _real = await retaken(h)
    stale_before = stale_outcomes()

    # The first sender's answer comes back after the re-claim: dropped, and counted.
    assert await record_attempts(h, [(first, OK)]) == ["PENDING"]
    assert stale_outcomes() == stale_before + 1
    deliveries, attempts, _subscriptions = await rows(h)
    assert attempts == []
    held = deliveries[first.delivery_id]
    assert (held.status, held.attempts, held.lease_token) == ("PENDING", 2, second.lease_token)

    assert await record_attempts(h, [(second, OK)]) == ["DELIVERED"]
    deliveries, attempts, _subscriptions = await rows(h)
    assert [(a.delivery_id, a.number, a.status_code) for a in attempts] == [
        (first.delivery_id, 2, 204)
    ]
    done = deliveries[first.delivery_id]
    assert (done.status, done.attempts, done.lease_token, done.leased_until) == (
        "DELIVERED",
        2,
        None,
        None,
    )
    [delivered] = await h.outbox(NotificationDelivered.TYPE)
    assert (delivered["notification_id"], delivered["attempts"]) == (first.delivery_id, 2)
    assert await h.outbox(NotificationFailed.TYPE) == []


async def test_a_late_failure_neither_ends_the_new_claims_lease_nor_counts_against_the_endpoint(
    h: Harness,
) -> None:
    first, second, real = await retaken(h)

    assert await record_attempts(h, [(first, FAILED)]) == ["PENDING"]
    # The second claim still holds the delivery: no retry a backoff away for a third claimer.
    later = real + dt.timedelta(seconds=LEASE_S + 2)
    assert await claim_at(h, DAYS_LATER + dt.timedelta(hours=1), later) == []
    assert await record_attempts(h, [(second, OK)]) == ["DELIVERED"]

    deliveries, attempts, (subscription,) = await rows(h)
    assert deliveries[first.delivery_id].status == "DELIVERED"
    assert [(a.number, a.status_code) for a in attempts] == [(2, 204)]
    assert (subscription.consecutive_failures, subscription.last_error) == (0, None)
    assert len(await h.outbox(NotificationDelivered.TYPE)) == 1
    assert await h.outbox(NotificationFailed.TYPE) == []


async def test_an_outcome_ends_the_lease_so_a_retry_is_due_at_its_next_attempt(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 1)
    real = dt.datetime.now(dt.UTC)
    (claimed,) = await claim_at(h, AFTER_QUIET, real)

    assert await record_attempts(h, [(claimed, FAILED)]) == ["PENDING"]

    deliveries, _attempts, _subscriptions = await rows(h)
    failed = deliveries[claimed.delivery_id]
    assert (failed.lease_token, failed.leased_until) == (None, None)
    # Due after its backoff on the rules' clock, the real second of the failure.
    (retry,) = await claim_at(h, failed.next_attempt_at, real)
    assert (retry.delivery_id, retry.attempt) == (claimed.delivery_id, 2)


async def test_a_delivery_whose_sender_died_is_claimed_again_when_its_lease_ends_on_a_stopped_clock(
    h: Harness,
) -> None:
    subscription = await subscribe(h)
    await queue(h, 1)
    (queued,) = (await rows(h))[0].values()
    real = dt.datetime.now(dt.UTC)
    # A lane claims it and dies mid-send: no outcome is ever recorded.
    (lost,) = await claim_at(h, AFTER_QUIET, real)

    # While its lease lasts the delivery log and explain say it is being sent.
    (shown,) = await h.deliveries()
    assert shown["leased_until"] is not None
    assert dt.datetime.fromisoformat(shown["next_attempt_at"]) == queued.next_attempt_at
    params = {"subscription": subscription, "event": shown["event_id"]}
    answer = (await h.client.get("/v1/explain", params=params)).json()
    assert answer["summary"] == "正在发送：第 1 次尝试", answer

    # The rules' clock stands still (a FixedClock); only real time passes. The lease keeps the
    # others away while it lasts, and no longer.
    assert await claim_at(h, AFTER_QUIET, real + dt.timedelta(seconds=LEASE_S / 2)) == []
    (retaken,) = await claim_at(h, AFTER_QUIET, real + dt.timedelta(seconds=LEASE_S + 1))

    assert (retaken.delivery_id, retaken.attempt) == (lost.delivery_id, 2)
    assert retaken.lease_token != lost.lease_token
    deliveries, _attempts, _subscriptions = await rows(h)
    # The claims left its due time as it was: the lease alone held it.
    assert deliveries[lost.delivery_id].next_attempt_at == queued.next_attempt_at
    assert await record_attempts(h, [(retaken, OK)]) == ["DELIVERED"]


def retry_queue_depth() -> float | None:
    return REGISTRY.get_sample_value("sanpi_notification_retry_queue_depth")


async def test_the_retry_queue_holds_failed_attempts_not_first_ones_in_flight(h: Harness) -> None:
    await subscribe(h)
    await queue(h, 3)
    real = dt.datetime.now(dt.UTC)
    first, second, third = await claim_at(h, AFTER_QUIET, real)
    assert [c.attempt for c in (first, second, third)] == [1, 1, 1]

    # Three first attempts under their leases: no retry among them.
    await service.refresh_gauges(h.runtime.db, real_now=real)
    assert retry_queue_depth() == 0

    # One fails and waits for its retry; the other two are still being sent.
    assert await record_attempts(h, [(first, FAILED)]) == ["PENDING"]
    await service.refresh_gauges(h.runtime.db, real_now=real)
    assert retry_queue_depth() == 1

    # Its retry in flight is still one; a delivered one leaves the queue.
    failed = (await rows(h))[0][first.delivery_id]
    (retry,) = await claim_at(h, failed.next_attempt_at, real)
    assert (retry.delivery_id, retry.attempt) == (first.delivery_id, 2)
    assert await record_attempts(h, [(second, OK)]) == ["DELIVERED"]
    await service.refresh_gauges(h.runtime.db, real_now=real)
    assert retry_queue_depth() == 1

    # The third's sender died: once its lease ends unanswered it waits to be sent again.
    await service.refresh_gauges(h.runtime.db, real_now=real + dt.timedelta(seconds=LEASE_S + 1))
    assert retry_queue_depth() == 2
    assert REGISTRY.get_sample_value("sanpi_notification_pending") == 2


# --- what a claim prepares for the webhook channel -------------------------------------------------


async def test_a_webhook_of_one_event_is_the_cloudevent_as_stored_and_renders_no_message(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(h)
    (event,) = await consume(h, registered("p1"))
    grouped = await consume(h, *(alert(Severity.YELLOW, evaluation_id="e-1") for _ in "ab"))
    async with h.runtime.db.read() as session:
        stored = (
            await session.exec(
                select(DeliveryEvent.payload).where(DeliveryEvent.event_id == event.id)
            )
        ).one()
    rendered: list[str] = []
    real_render = templates.render

    def counted(kind: Any, *args: Any, **kwargs: Any) -> Any:
        rendered.append(str(kind))
        return real_render(kind, *args, **kwargs)

    monkeypatch.setattr(service, "render", counted)

    by_kind = {c.content_type: c for c in await claim(h)}

    single = by_kind[service.CLOUDEVENT_BODY]
    # Byte for byte what the fan-out stored, as before: the event as consumed.
    assert single.body == stored.encode()
    assert json.loads(single.body)["id"] == event.id
    assert single.message == service.UNREAD
    # The digest's envelope carries its message's subject and text: that one is rendered.
    envelope = by_kind[service.ENVELOPE_BODY]
    body = json.loads(envelope.body)
    assert [e["id"] for e in body["events"]] == [e.id for e in grouped]
    assert body["subject"] == envelope.message.subject != ""
    assert body["text"] == envelope.message.text != ""
    assert rendered == ["DIGEST"]
