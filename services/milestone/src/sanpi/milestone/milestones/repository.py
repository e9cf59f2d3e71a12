"""Every SQL statement about milestones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind
from sanpi.kit.deferred import insert_at_commit, insert_pending
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


# New milestones of a consumer batch, INSERTed at commit (or before this transaction next
# reads milestones) with one executemany: a registration plans up to six.
_INSERT = sa.insert(Milestone)


def insert(session: AsyncSession, row: dict[str, Any]) -> None:
    """A new milestone as plain values (every column, always the same keys)."""
    insert_at_commit(session, _INSERT, row)
    PREFETCHED.forget(session, row["project_id"])


async def get(
    session: AsyncSession, project_id: str, kind: MilestoneKind, label: str
) -> Milestone | None:
    await insert_pending(session, _INSERT)
    stmt = select(Milestone).where(
        Milestone.project_id == project_id, Milestone.kind == kind, Milestone.label == label
    )
    return (await session.exec(stmt)).first()


async def for_projects(session: AsyncSession, project_ids: Sequence[str]) -> list[Milestone]:
    await insert_pending(session, _INSERT)
    stmt = (
        select(Milestone)
        .where(col(Milestone.project_id).in_(project_ids))
        .order_by(col(Milestone.project_id), col(Milestone.baseline_date), col(Milestone.kind))
    )
    return list((await session.exec(stmt)).all())
