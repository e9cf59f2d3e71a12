"""The consumer inbox: ids of processed events, written in the same transaction as the effect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent
from sanpi.kit.db import UTCDateTime, utcnow
from sanpi.kit.deferred import insert_at_commit


class InboxEntry(SQLModel, table=True):
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
    stmt = select(InboxEntry.source, InboxEntry.event_id).where(
        InboxEntry.consumer == consumer,
        col(InboxEntry.source).in_(sources),
        col(InboxEntry.event_id).in_(ids),
    )
    wanted = {(event.source, event.id) for event in events}
    return {(source, event_id) for source, event_id in await session.exec(stmt)} & wanted


# Built once, run at commit with the transaction's rows.
_INSERT = sa.insert(InboxEntry)


def record_processed(session: AsyncSession, consumer: str, event: CloudEvent) -> None:
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
    insert_at_commit(session, _INSERT, row)
