"""Every SQL statement about the stream log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.stream.models import StreamEvent


async def contains(session: AsyncSession, event_id: str) -> bool:
    stmt = select(StreamEvent.seq).where(StreamEvent.event_id == event_id)
    return (await session.exec(stmt)).first() is not None


def add(session: AsyncSession, row: StreamEvent) -> None:
    session.add(row)


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
