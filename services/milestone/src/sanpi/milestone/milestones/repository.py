"""Every SQL statement about milestones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind
from sanpi.kit.prefetch import Prefetched
from sanpi.milestone.milestones.models import Milestone

# A consumer batch's milestones by project, loaded up front.
PREFETCHED: Prefetched[Milestone] = Prefetched("milestone.milestones")


async def prefetch(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Loads a batch's milestones in one query; `of_project` then answers from memory."""
    found = await for_projects(session, project_ids)
    PREFETCHED.keep(session, project_ids, found, lambda m: m.project_id)


async def of_project(session: AsyncSession, project_id: str) -> list[Milestone]:
    known = PREFETCHED.rows(session, project_id)
    return known if known is not None else await for_projects(session, [project_id])


def save(session: AsyncSession, milestone: Milestone) -> None:
    session.add(milestone)
    PREFETCHED.add(session, milestone.project_id, milestone)


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
