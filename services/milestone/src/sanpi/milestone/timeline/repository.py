"""Every SQL statement about the timeline."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import UnitOfWork
from sanpi.milestone.timeline.models import TimelineEntry

_INSERT = sa.insert(TimelineEntry)


def add(uow: UnitOfWork, entry: dict[str, Any]) -> None:
    """Written when the transaction commits, with the other entries of the transaction."""
    uow.insert_at_commit(_INSERT, entry)


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
