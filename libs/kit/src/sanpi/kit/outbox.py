"""The transactional outbox: events are rows committed with the change, published later by the relay."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import JSON, LargeBinary, func
from sqlmodel import Field, SQLModel, col

from sanpi.events import CloudEvent, EventData, header_values, to_value
from sanpi.kit.errors import Problem
from sanpi.kit.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from sanpi.kit.slots import CommitSignal
from sanpi.kit.timestamps import UTCDateTime, utcnow
from sanpi.kit.waiting import sleep_or_stop, wait_any

if TYPE_CHECKING:
    from sanpi.kit.db import Database

log = logging.getLogger("sanpi.outbox")


class OutboxMessage(SQLModel, table=True):
    """One event waiting for Kafka. Rows are deleted once the broker has acknowledged them."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=128)
    topic: str = Field(max_length=128)
    key: str = Field(max_length=256)
    value: bytes = Field(sa_type=LargeBinary)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Set when a transaction that published events commits: the relay wakes.
OUTBOX_PENDING = CommitSignal("outbox")
# Built once: the unit of work writes a transaction's events with one executemany at commit.
INSERT_OUTBOX = sa.insert(OutboxMessage)


def outbox_row(event: CloudEvent, data: EventData) -> dict[str, Any]:
    """The outbox row of an event (UnitOfWork.publish): the columns of build_record's Kafka
    record, without encoding what is stored as text."""
    return {
        "event_id": event.id,
        "event_type": event.type,
        "topic": data.TOPIC,
        "key": data.partition_key(),
        "value": to_value(event),
        "headers": header_values(event),
        "created_at": utcnow(),
    }


# A client told to come back in 30 s finds a broker back from a restart, or the relay some way
# through the backlog; the request was refused before anything was written, so a retry is safe.
BACKLOG_RETRY_AFTER_S = 30


class OutboxFull(Problem):
    """A write refused because too many events wait for Kafka (outbox_max_backlog)."""

    status, slug, title = 503, "event-backlog-full", "Event backlog full"

    def __init__(self, waiting: int, limit: int) -> None:
        super().__init__(
            f"事件积压已达上限：{waiting} 条事件等待发布到 Kafka（上限 {limit} 条），"
            "暂停写入，未写入任何数据，请稍后重试。"
            f" / {waiting} events wait to be published to Kafka (limit {limit}); nothing was "
            "written, retry later.",
            headers={"Retry-After": str(BACKLOG_RETRY_AFTER_S)},
        )


class PendingEvent(NamedTuple):
    """An outbox row as the relay reads it: plain columns, no ORM object (a batch holds 500)."""

    id: int
    event_type: str
    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


# send(topic, key, value, headers) returns once Kafka has acknowledged the record (acks=all).
SendBatch = Callable[[list[PendingEvent]], Awaitable[None]]

# The backlog gauges are read by Prometheus every 15 s: refreshing them after every batch cost
# a third of the relay's work per event when each commit wakes it for one row.
GAUGE_INTERVAL_S = 5.0


# Built once, run with parameters: the relay runs them for every batch, often of one event.
_PENDING = (
    sa.select(
        col(OutboxMessage.id),
        col(OutboxMessage.event_type),
        col(OutboxMessage.topic),
        col(OutboxMessage.key),
        col(OutboxMessage.value),
        col(OutboxMessage.headers),
    )
    .order_by(col(OutboxMessage.id))
    .limit(sa.bindparam("limit"))
)
_DELETE = sa.delete(OutboxMessage).where(
    col(OutboxMessage.id).in_(sa.bindparam("ids", expanding=True))
)
_BACKLOG = sa.select(func.count(), func.min(col(OutboxMessage.created_at)))
# PostgreSQL: replicas of a service share its outbox, and the relay holding this lock publishes
# (advisory locks are per database, so each service's relays take turns among themselves).
_TAKE_TURN = sa.text("SELECT pg_advisory_xact_lock(:key)").bindparams(
    sa.bindparam("key", value=zlib.crc32(b"sanpi.outbox.relay"), type_=sa.BigInteger)
)


class OutboxRelay:
    """Publishes committed outbox rows in id order, then deletes them. Crash-safe: never loses,
    may duplicate (a row published but not yet deleted is sent again after a restart)."""

    def __init__(
        self,
        db: Database,
        send_batch: SendBatch,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 500,
        gauge_interval: float = GAUGE_INTERVAL_S,
    ) -> None:
        self.db = db
        self.send_batch = send_batch
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.gauge_interval = gauge_interval
        self._gauges_due = 0.0
        # Rows waiting, as last counted (refresh_gauges): what the write guard compares.
        self.backlog = 0
        self._wake = db.commit_signal(OUTBOX_PENDING)

    def wake(self) -> None:
        self._wake.set()

    async def publish_once(self) -> int:
        """Publishes one batch; returns how many rows it published."""
        rows = await (self._publish_sqlite() if self.db.is_sqlite else self._publish_in_turn())
        for row in rows:
            EVENTS_PUBLISHED.labels(row.topic, row.event_type).inc()
        return len(rows)

    async def _publish_sqlite(self) -> list[PendingEvent]:
        # A read, not a write transaction: the SQLite write lock is for the rows being changed,
        # and a service's writers queue on it (Database.transaction).
        async with self.db.read() as session:
            connection = await session.connection()
            found = await connection.execute(_PENDING, {"limit": self.batch_size})
            rows = [PendingEvent._make(row) for row in found]
        if not rows:
            return rows
        # Await delivery of the whole batch before deleting: a row is gone only once Kafka has it.
        await self.send_batch(rows)
        async with self.db.transaction() as uow:
            connection = await uow.session.connection()
            await connection.execute(_DELETE, {"ids": [r.id for r in rows]})
        return rows

    async def _publish_in_turn(self) -> list[PendingEvent]:
        """Read, send and delete in one transaction that first takes the relays' lock, so that
        the replicas' relays publish one after the other. Side by side they read the same rows
        and both sent them: with two replicas a fault test found 28 % of the events published
        twice. One after the other, the next relay reads after the rows it would repeat are
        gone, and a batch still leaves in id order. A relay killed mid-batch drops its
        connection, and with it the lock and the transaction."""
        async with self.db.transaction() as uow:
            connection = await uow.session.connection()
            await connection.execute(_TAKE_TURN)
            found = await connection.execute(_PENDING, {"limit": self.batch_size})
            rows = [PendingEvent._make(row) for row in found]
            if rows:
                await self.send_batch(rows)
                await connection.execute(_DELETE, {"ids": [r.id for r in rows]})
        return rows

    async def refresh_gauges(self) -> None:
        async with self.db.read() as session:
            connection = await session.connection()
            count, oldest = (await connection.execute(_BACKLOG)).one()
        self.backlog = count
        OUTBOX_BACKLOG.set(count)
        OUTBOX_OLDEST_AGE.set((utcnow() - oldest).total_seconds() if oldest else 0.0)

    async def refresh_gauges_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now >= self._gauges_due:
            await self.refresh_gauges()
            self._gauges_due = now + self.gauge_interval

    async def run(self, stopping: asyncio.Event) -> None:
        """Publishes until `stopping` is set; retries with backoff while Kafka is unreachable."""
        gauges = asyncio.create_task(self._read_gauges(stopping), name="sanpi-outbox-gauges")
        try:
            await self._publish(stopping)
        finally:
            gauges.cancel()
            await asyncio.gather(gauges, return_exceptions=True)

    async def _publish(self, stopping: asyncio.Event) -> None:
        backoff = 0.5
        while not stopping.is_set():
            try:
                published = await self.publish_once()
                backoff = 0.5
                if published == self.batch_size:
                    continue
            except Exception as exc:  # Kafka or DB down: keep the rows, try again later.
                log.warning(
                    "outbox relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, backoff
                )
                await sleep_or_stop(stopping, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self._wake.clear()
            await wait_any(self._wake, stopping, timeout=self.poll_interval)

    async def _read_gauges(self, stopping: asyncio.Event) -> None:
        """The backlog gauges, read on their own schedule: a publish to an unreachable broker
        waits ~30 s a try, and that is when the backlog grows and SanpiOutboxBacklogOld must see
        it (read between publishes, the age stayed 0 while Kafka was away)."""
        while not stopping.is_set():
            try:
                await self.refresh_gauges_if_due()
            except Exception as exc:  # the database away: the publishing loop says so
                log.debug("outbox gauges: %s: %s", type(exc).__name__, exc)
            await sleep_or_stop(stopping, max(self.gauge_interval, 0.05))

    async def flush(self, timeout: float) -> bool:
        """Publishes everything left (shutdown). Returns True when the outbox is empty."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                # wait_for, not waiting.within: at shutdown a timed-out publish must have given
                # way before the database and the producer close under it.
                if await asyncio.wait_for(self.publish_once(), timeout=max(0.1, timeout)) == 0:
                    return True
            except Exception as exc:
                log.warning("outbox flush: %s: %s", type(exc).__name__, exc)
                return False
        return False
