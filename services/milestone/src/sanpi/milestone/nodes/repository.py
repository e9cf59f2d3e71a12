"""Every SQL statement about milestones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind
from sanpi.kit import Reading, UnitOfWork
from sanpi.kit.id_spans import ByIds
from sanpi.kit.named_rows import NamedRow, driver_named_rows, named_rows
from sanpi.kit.prefetch import Prefetched
from sanpi.kit.unit_of_work import insert_pending, session_of
from sanpi.milestone.nodes.models import Milestone, MilestoneBaseline

# A consumer batch's milestones by project, loaded up front.
PREFETCHED: Prefetched[Milestone] = Prefetched("milestone.milestones")
# A milestone as a rule evaluation reads it (rows_for_rules).
MilestoneRow = Milestone | NamedRow


async def prefetch(uow: UnitOfWork, project_ids: Sequence[str]) -> None:
    """Loads a batch's milestones in one query; `of_project` then answers from memory."""
    found = await for_projects(uow, project_ids)
    PREFETCHED.keep(uow, project_ids, found, lambda m: m.project_id)


async def of_project(tx: Reading, project_id: str) -> list[Milestone]:
    known = PREFETCHED.rows(tx, project_id)
    return known if known is not None else await for_projects(tx, [project_id])


def save(uow: UnitOfWork, milestone: Milestone) -> None:
    uow.session.add(milestone)
    PREFETCHED.add(uow, milestone.project_id, milestone)


# New milestones of a consumer batch, INSERTed at commit (or before this transaction next
# reads milestones) with one executemany: a registration plans up to six.
_INSERT = sa.insert(Milestone)


def insert(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """A new milestone as plain values (every column, always the same keys)."""
    uow.insert_at_commit(_INSERT, row)
    PREFETCHED.forget(uow, row["project_id"])


async def get(tx: Reading, project_id: str, kind: MilestoneKind, label: str) -> Milestone | None:
    await insert_pending(tx, _INSERT)
    session = session_of(tx)
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
_FOR_RULES = ByIds.of(
    lambda among: (
        sa.select(*(_NODES[name] for name in _RULE_COLUMNS))
        .where(among(_NODES.project_id))
        .order_by(_NODES.project_id, _NODES.baseline_date, _NODES.kind)
    )
)
_SET_STATUS = (
    sa.update(Milestone)
    .where(_NODES.id == sa.bindparam("milestone_id"))
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("updated_at"))
)


async def rows_for_rules(tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
    """The projects' milestones in plan order (as for_projects), as they stand in this
    transaction, for reading only."""
    await insert_pending(tx, _INSERT)
    session = session_of(tx)
    await session.flush()  # a Core read does not autoflush: changed milestones first
    connection = await session.connection()
    return await driver_named_rows(connection, *_FOR_RULES.params(project_ids))


async def set_status(session: AsyncSession, changes: Sequence[dict[str, Any]]) -> None:
    """UPDATEs milestones' status now, one executemany: each change is {milestone_id, status,
    updated_at}. For rows read by rows_for_rules: a Milestone object of the same row loaded
    earlier in this transaction would not see it."""
    if changes:
        connection = await session.connection()
        await connection.execute(_SET_STATUS, list(changes))


async def for_projects(tx: Reading, project_ids: Sequence[str]) -> list[Milestone]:
    await insert_pending(tx, _INSERT)
    session = session_of(tx)
    stmt = (
        select(Milestone)
        .where(col(Milestone.project_id).in_(project_ids))
        .order_by(col(Milestone.project_id), col(Milestone.baseline_date), col(Milestone.kind))
    )
    return list((await session.exec(stmt)).all())


# --- named baselines ------------------------------------------------------------------------------

_BASELINES = MilestoneBaseline.__table__.c  # type: ignore[attr-defined]
_BASELINES_FOR_RULES = (
    sa.select(_BASELINES.project_id, _BASELINES.effective_on, _BASELINES.dates)
    .where(
        _BASELINES.project_id.in_(sa.bindparam("ids", expanding=True)),
        _BASELINES.effective_on.is_not(None),
    )
    .order_by(_BASELINES.project_id, _BASELINES.effective_on, _BASELINES.approved_at)
)


async def baselines_for_rules(tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
    """The projects' named baselines (project_id, effective_on, dates), oldest first."""
    session = session_of(tx)
    await session.flush()
    connection = await session.connection()
    return named_rows(await connection.execute(_BASELINES_FOR_RULES, {"ids": list(project_ids)}))


async def baselines_of(tx: Reading, project_id: str) -> list[MilestoneBaseline]:
    """A project's named baselines, oldest first."""
    session = session_of(tx)
    stmt = (
        select(MilestoneBaseline)
        .where(MilestoneBaseline.project_id == project_id)
        .order_by(col(MilestoneBaseline.approved_at), col(MilestoneBaseline.name))
    )
    return list((await session.exec(stmt)).all())


def add_baseline(uow: UnitOfWork, baseline: MilestoneBaseline) -> None:
    uow.session.add(baseline)
