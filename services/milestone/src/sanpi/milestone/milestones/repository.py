"""Every SQL statement about milestones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind
from sanpi.milestone.milestones.models import Milestone

# session.info key: a consumer batch's milestones by project, loaded up front.
PREFETCHED = "sanpi.milestone.prefetched.milestones"


def _prefetched(session: AsyncSession) -> dict[str, list[Milestone]] | None:
    return cast(dict[str, list[Milestone]] | None, session.info.get(PREFETCHED))


async def prefetch(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Loads a batch's milestones in one query; `of_project` then answers from memory."""
    known: dict[str, list[Milestone]] = {pid: [] for pid in project_ids}
    for row in await for_projects(session, project_ids):
        known[row.project_id].append(row)
    session.info[PREFETCHED] = known


async def of_project(session: AsyncSession, project_id: str) -> list[Milestone]:
    known = _prefetched(session)
    if known is not None and project_id in known:
        return list(known[project_id])
    return await for_projects(session, [project_id])


def save(session: AsyncSession, milestone: Milestone) -> None:
    session.add(milestone)
    known = _prefetched(session)
    rows = known.get(milestone.project_id) if known is not None else None
    if rows is not None and all(row is not milestone for row in rows):
        rows.append(milestone)


async def get(
    session: AsyncSession, project_id: str, kind: MilestoneKind, label: str
) -> Milestone | None:
    stmt = select(Milestone).where(
        Milestone.project_id == project_id, Milestone.kind == kind, Milestone.label == label
    )
    return (await session.exec(stmt)).first()


async def for_projects(session: AsyncSession, project_ids: Sequence[str]) -> list[Milestone]:
    stmt = (
        select(Milestone)
        .where(col(Milestone.project_id).in_(project_ids))
        .order_by(col(Milestone.project_id), col(Milestone.baseline_date), col(Milestone.kind))
    )
    return list((await session.exec(stmt)).all())
