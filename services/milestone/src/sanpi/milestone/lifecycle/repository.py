"""Every SQL statement about tracked projects and their stage history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.milestone.lifecycle.models import StageChange, TrackedProject


async def get(session: AsyncSession, project_id: str) -> TrackedProject | None:
    return await session.get(TrackedProject, project_id)


async def all_ids(session: AsyncSession) -> list[str]:
    stmt = select(TrackedProject.project_id).order_by(col(TrackedProject.project_id))
    return list((await session.exec(stmt)).all())


async def many(session: AsyncSession, project_ids: Sequence[str]) -> list[TrackedProject]:
    stmt = select(TrackedProject).where(col(TrackedProject.project_id).in_(project_ids))
    return list((await session.exec(stmt)).all())


async def by_park(session: AsyncSession) -> list[TrackedProject]:
    stmt = select(TrackedProject).order_by(col(TrackedProject.park))
    return list((await session.exec(stmt)).all())


def save(session: AsyncSession, row: TrackedProject | StageChange) -> None:
    session.add(row)


async def history(session: AsyncSession, project_ids: Sequence[str]) -> list[StageChange]:
    stmt = (
        select(StageChange)
        .where(col(StageChange.project_id).in_(project_ids))
        .order_by(col(StageChange.id))
    )
    return list((await session.exec(stmt)).all())
