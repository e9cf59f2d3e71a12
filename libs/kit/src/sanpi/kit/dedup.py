"""De-duplication of consumed events: the ids a consumer has applied, written with the effect.

The table keeps its first name, `inbox` (renaming it is a schema change in every service for
no gain); the module is `dedup` so that it does not collide with the people's inbox of the
notification service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent
from sanpi.kit.timestamps import UTCDateTime, utcnow

if TYPE_CHECKING:
    from sanpi.kit.unit_of_work import UnitOfWork


class ProcessedEvent(SQLModel, table=True):
    """Event (source, id) has been applied by `consumer`; seeing it again is a no-op."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=128)
    source: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=128)
    # Indexed for the pruner (inbox_retention_days), which takes the oldest first.
    processed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


async def processed_among(
    session: AsyncSession, consumer: str, events: Sequence[CloudEvent]
) -> set[tuple[str, str]]:
    """The (source, id) of those of `events` that `consumer` has applied: one query for a batch.

    Every column of the primary key (consumer, source, event_id) is constrained, so the query
    looks its ids up in the index: with `consumer` alone SQLite scanned every row the consumer
    ever wrote, and a replay of 52,700 events spent ~15 % of its time there, growing with
    the inbox."""
    ids = {event.id for event in events}
    sources = {event.source for event in events}
    stmt = select(ProcessedEvent.source, ProcessedEvent.event_id).where(
        ProcessedEvent.consumer == consumer,
        col(ProcessedEvent.source).in_(sources),
        col(ProcessedEvent.event_id).in_(ids),
    )
    wanted = {(event.source, event.id) for event in events}
    return {(source, event_id) for source, event_id in await session.exec(stmt)} & wanted


# Built once, run at commit with the transaction's rows.
_INSERT = sa.insert(ProcessedEvent)


def record_processed(uow: UnitOfWork, consumer: str, event: CloudEvent) -> None:
    """Marks the event applied, written when the transaction commits: one executemany for a
    consumer batch instead of an ORM object per event (replaying 5,300 registry events: 0.65 →
    0.57 CPU-s per 1,000 events, min of 6 interleaved runs). Nothing reads the inbox back in
    the transaction: the consumer keeps the batch's applied ids in memory, and a concurrent
    replica applying the same event still fails on the primary key at commit, as the ORM's
    flush did."""
    row = {
        "consumer": consumer,
        "source": event.source,
        "event_id": event.id,
        "event_type": event.type,
        "processed_at": utcnow(),
    }
    uow.insert_at_commit(_INSERT, row)
