"""Every SQL statement about the stream log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Slot, UnitOfWork
from sanpi.notification.stream.models import StreamEvent

STREAM_EVENT: Table = StreamEvent.__table__  # type: ignore[attr-defined]


# Appended rows, written at commit: one executemany for a consumer batch instead of one INSERT
# per event. Nothing reads the log inside a consumer transaction.
PENDING_ROWS: Slot[list[dict[str, Any]]] = Slot("notification.pending_stream", list)


def add_once(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Appends the event at commit unless the log has it already."""
    pending = uow.peek(PENDING_ROWS)
    if pending is None:
        pending = uow.put(PENDING_ROWS, [])
        uow.at_commit(PENDING_ROWS.name, _write)
    pending.append(values)


async def _write(uow: UnitOfWork) -> None:
    pending = uow.take(PENDING_ROWS)
    if not pending:
        return
    session = uow.session
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(STREAM_EVENT).on_conflict_do_nothing(index_elements=["event_id"])
    await session.exec(stmt, params=pending)


async def last_seq(session: AsyncSession) -> int:
    return int((await session.exec(select(func.max(StreamEvent.seq)))).one() or 0)


async def after(session: AsyncSession, seq: int, limit: int) -> list[StreamEvent]:
    stmt = (
        select(StreamEvent)
        .where(col(StreamEvent.seq) > seq)
        .order_by(col(StreamEvent.seq))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def prune(session: AsyncSession, before: dt.datetime) -> None:
    await session.exec(delete(StreamEvent).where(col(StreamEvent.appended_at) < before))


async def by_event_id(session: AsyncSession, event_id: str) -> StreamEvent | None:
    stmt = select(StreamEvent).where(StreamEvent.event_id == event_id)
    return (await session.exec(stmt)).first()
