"""Every SQL statement about the stream log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.stream.models import StreamEvent

STREAM_EVENT: Table = StreamEvent.__table__  # type: ignore[attr-defined]


async def add_once(session: AsyncSession, values: dict[str, Any]) -> None:
    """Appends the event unless the log has it already: one statement instead of a look-up and
    an insert through the ORM (issue 8)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(STREAM_EVENT).values(values)
    await session.exec(stmt.on_conflict_do_nothing(index_elements=["event_id"]))


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
