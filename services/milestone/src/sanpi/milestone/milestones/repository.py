"""Every SQL statement about milestones."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.milestone.milestones.models import Milestone


def add(session: AsyncSession, milestone: Milestone) -> None:
    session.add(milestone)


async def for_project(session: AsyncSession, project_id: str) -> list[Milestone]:
    stmt = (
        select(Milestone)
        .where(Milestone.project_id == project_id)
        .order_by(col(Milestone.recorded_at), col(Milestone.id))
    )
    return list((await session.exec(stmt)).all())
