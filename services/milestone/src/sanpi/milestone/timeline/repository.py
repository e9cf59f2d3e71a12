"""Every SQL statement about the timeline."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.milestone.timeline.models import TimelineEntry


def add(session: AsyncSession, entry: TimelineEntry) -> None:
    session.add(entry)


async def page(
    session: AsyncSession, *, project_id: str, after_id: int, limit: int
) -> list[TimelineEntry]:
    stmt = (
        select(TimelineEntry)
        .where(TimelineEntry.project_id == project_id, col(TimelineEntry.id) > after_id)
        .order_by(col(TimelineEntry.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
