"""Every SQL statement about milestones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind
from sanpi.kit.legacy import Prefetched, insert_at_commit, insert_pending
from sanpi.kit.named_rows import NamedRow, named_rows
from sanpi.milestone.milestones.models import Milestone

# A consumer batch's milestones by project, loaded up front.
PREFETCHED: Prefetched[Milestone] = Prefetched("milestone.milestones")
# A milestone as a rule evaluation reads it (rows_for_rules).
MilestoneRow = Milestone | NamedRow


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


# What a rule evaluation reads of its projects' milestones: Core rows of the columns it needs,
# not ORM objects. Loading a province's ~38,000 milestones through the ORM decoded each one's
# evidence JSON and two timestamps and built an instrumented object; an evaluation changes only
# the status of the few whose due date came near or passed (set_status).
_NODES = Milestone.__table__.c  # type: ignore[attr-defined]
_RULE_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "label",
    "baseline_date",
    "forecast_date",
    "actual_date",
    "status",
)
_FOR_RULES = (
    sa.select(*(_NODES[name] for name in _RULE_COLUMNS))
    .where(_NODES.project_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_NODES.project_id, _NODES.baseline_date, _NODES.kind)
)
_SET_STATUS = (
    sa.update(Milestone)
    .where(_NODES.id == sa.bindparam("milestone_id"))
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("updated_at"))
)


async def rows_for_rules(session: AsyncSession, project_ids: Sequence[str]) -> list[NamedRow]:
    """The projects' milestones in plan order (as for_projects), as they stand in this
    transaction, for reading only."""
    await insert_pending(session, _INSERT)
    await session.flush()  # a Core read does not autoflush: changed milestones first
    connection = await session.connection()
    return named_rows(await connection.execute(_FOR_RULES, {"ids": list(project_ids)}))


async def set_status(session: AsyncSession, changes: Sequence[dict[str, Any]]) -> None:
    """UPDATEs milestones' status now, one executemany: each change is {milestone_id, status,
    updated_at}. For rows read by rows_for_rules: a Milestone object of the same row loaded
    earlier in this transaction would not see it."""
    if changes:
        connection = await session.connection()
        await connection.execute(_SET_STATUS, list(changes))


async def for_projects(session: AsyncSession, project_ids: Sequence[str]) -> list[Milestone]:
    await insert_pending(session, _INSERT)
    stmt = (
        select(Milestone)
        .where(col(Milestone.project_id).in_(project_ids))
        .order_by(col(Milestone.project_id), col(Milestone.baseline_date), col(Milestone.kind))
    )
    return list((await session.exec(stmt)).all())
