"""The outbox relay: a row disappears only after the broker acknowledged it, in commit order."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlmodel import col, select

from sanpi.events import ProjectRegistered, Stage
from sanpi.kit import (
    KIT_TABLES,
    Database,
    OutboxMessage,
    OutboxRelay,
    PendingEvent,
    UnitOfWork,
)
from tests.support.waiting import eventually


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, event_source="/sanpi/test")
    await database.create_all(list(KIT_TABLES))
    yield database
    await database.dispose()


def registered(i: int) -> ProjectRegistered:
    return ProjectRegistered(
        project_id=f"p-{i}",
        version=1,
        name=f"n{i}",
        park="梧桐",
        total_investment=1 + i,
        stage=Stage.SIGNED,
        planned_start_date=dt.date(2024, 1, 1),
    )


async def stage_events(db: Database, count: int) -> None:
    for i in range(count):
        async with db.transaction() as uow:
            uow.publish(registered(i))


async def remaining(db: Database) -> int:
    async with db.read() as session:
        return len((await session.exec(select(OutboxMessage))).all())


async def test_rows_are_sent_in_commit_order_then_deleted(db: Database) -> None:
    sent: list[str] = []

    async def send(rows: list[PendingEvent]) -> None:
        sent.extend(r.key for r in rows)

    await stage_events(db, 5)
    relay = OutboxRelay(db, send, batch_size=2)
    assert await relay.publish_once() == 2
    assert await relay.publish_once() == 2
    assert await relay.publish_once() == 1
    assert await relay.publish_once() == 0
    assert sent == [f"p-{i}" for i in range(5)]
    assert await remaining(db) == 0


async def test_a_failed_send_keeps_every_row(db: Database) -> None:
    async def broker_down(_rows: list[PendingEvent]) -> None:
        raise ConnectionError("broker unreachable")

    await stage_events(db, 3)
    relay = OutboxRelay(db, broker_down)
    with pytest.raises(ConnectionError):
        await relay.publish_once()
    assert await remaining(db) == 3


async def test_a_rolled_back_transaction_publishes_nothing(db: Database) -> None:
    async def write_then_fail() -> None:
        async with db.transaction() as uow:
            uow.publish(
                ProjectRegistered(
                    project_id="p",
                    version=1,
                    name="n",
                    park="梧桐",
                    total_investment=1,
                    stage=Stage.SIGNED,
                ),
            )
            raise RuntimeError("validation failed after the event was staged")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    assert await remaining(db) == 0


async def test_commit_wakes_the_relay(db: Database) -> None:
    async def send(_rows: list[PendingEvent]) -> None:
        return None

    relay = OutboxRelay(db, send)
    relay._wake.clear()
    await stage_events(db, 1)
    assert relay._wake.is_set()


@pytest.mark.parametrize(("interval", "seen_after_more"), [(0.0, 3.0), (3600.0, 2.0)])
async def test_the_backlog_gauges_are_read_at_most_once_per_interval(
    db: Database, interval: float, seen_after_more: float
) -> None:
    async def send(_rows: list[PendingEvent]) -> None:
        return None

    def backlog() -> float | None:
        return REGISTRY.get_sample_value("sanpi_outbox_backlog")

    relay = OutboxRelay(db, send, gauge_interval=interval)
    await stage_events(db, 2)
    await relay.refresh_gauges_if_due()
    assert backlog() == 2.0
    await stage_events(db, 1)
    await relay.refresh_gauges_if_due()
    assert backlog() == seen_after_more


async def test_events_enqueued_by_work_at_commit_are_stored_after_the_earlier_ones(
    db: Database,
) -> None:
    # The outbox rows of a transaction are written just before it commits, and the rules'
    # evaluation, which runs then too, raises alerts: those must not be lost or reordered.
    async def evaluate(uow: UnitOfWork) -> None:
        uow.publish(registered(2))
        uow.publish(registered(3))

    async with db.transaction() as uow:
        uow.publish(registered(0))
        uow.at_commit("evaluate", evaluate)
        uow.publish(registered(1))
    async with db.read() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [r.key for r in rows] == ["p-0", "p-1", "p-2", "p-3"]
    assert [json.loads(r.value)["data"]["total_investment"] for r in rows] == [1, 2, 3, 4]


async def test_the_backlog_gauges_are_read_while_a_publish_waits_on_the_broker(
    db: Database,
) -> None:
    """Kafka away: each publish waits ~30 s for the broker, and the outbox alert needs the
    backlog's age meanwhile (before, the gauges were read only between publishes: 0 for good)."""
    hanging = asyncio.Event()

    async def send(_rows: list[PendingEvent]) -> None:
        await hanging.wait()

    def backlog() -> float | None:
        return REGISTRY.get_sample_value("sanpi_outbox_backlog")

    await stage_events(db, 1)
    relay = OutboxRelay(db, send, gauge_interval=0.05)
    stopping = asyncio.Event()
    running = asyncio.create_task(relay.run(stopping))
    try:
        await eventually(lambda: backlog() == 1.0, what="the backlog gauge read")
        await stage_events(db, 2)
        await eventually(lambda: backlog() == 3.0, what="the backlog gauge read again")
        age = REGISTRY.get_sample_value("sanpi_outbox_oldest_age_seconds")
        assert age is not None
        assert age > 0
    finally:
        stopping.set()
        hanging.set()
        await running


@pytest.mark.postgres_only
async def test_replicas_relays_publish_each_row_once_in_order(
    db: Database, database_url: str
) -> None:
    """Two replicas' relays on one outbox, while writers commit: every event is sent once, and
    each key's events in the order they committed."""
    other = Database(database_url, event_source="/sanpi/test")
    sent: list[tuple[str, int]] = []
    stopping = asyncio.Event()

    async def send(rows: list[PendingEvent]) -> None:
        await asyncio.sleep(0.005)  # a broker round trip: the window in which relays overlapped
        sent.extend((r.key, json.loads(r.value)["data"]["total_investment"]) for r in rows)

    async def writer(key: int) -> None:
        for n in range(40):  # one key's events one after the other, as a project's writes
            async with db.transaction() as uow:
                uow.publish(registered(key).model_copy(update={"total_investment": n + 1}))

    relays = [OutboxRelay(d, send, poll_interval=0.01) for d in (db, other)]
    running = [asyncio.create_task(r.run(stopping)) for r in relays]
    try:
        await asyncio.gather(*(writer(key) for key in range(10)))

        async def drained() -> bool:
            return await remaining(db) == 0

        await eventually(drained, timeout=30, what="the outbox drained")
    finally:
        stopping.set()
        await asyncio.gather(*running)
        await other.dispose()
    assert len(sent) == len(set(sent)) == 400, f"{len(sent) - len(set(sent))} sent twice"
    for key in range(10):
        assert [n for k, n in sent if k == f"p-{key}"] == list(range(1, 41))
