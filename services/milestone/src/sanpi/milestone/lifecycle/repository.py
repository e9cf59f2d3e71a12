"""Every SQL statement about tracked projects and their stage history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import Stage
from sanpi.kit.db import utcnow
from sanpi.kit.id_spans import ByIds
from sanpi.kit.named_rows import NamedRow, driver_named_rows
from sanpi.kit.prefetch import Prefetched
from sanpi.kit.slots import Slot
from sanpi.kit.unit_of_work import Reading, UnitOfWork, insert_pending, session_of, unit_of
from sanpi.milestone.lifecycle.models import StageChange, TrackedProject

# A consumer batch's projects, loaded up front.
PREFETCHED: Prefetched[TrackedProject] = Prefetched("milestone.projects")
_TRACKED = TrackedProject.__table__.c  # type: ignore[attr-defined]


async def prefetch(uow: UnitOfWork, project_ids: Sequence[str]) -> None:
    """Loads a batch's projects in one query; `get` then answers them from memory. Replaying the
    registry's topic spent a third of its time in one lookup per event, each flushing the
    batch's pending rows first."""
    found = await many(uow, project_ids)
    PREFETCHED.keep(uow, project_ids, found, lambda p: p.project_id)


# The periods (期) of a consumer batch's listed projects, (project_id, periods), loaded up front.
PERIODS: Prefetched[tuple[str, list[int]]] = Prefetched("milestone.periods")
_PERIODS = sa.select(_TRACKED.project_id, _TRACKED.periods).where(
    _TRACKED.project_id.in_(sa.bindparam("ids", expanding=True))
)
# Project id → its new periods and updated_at, UPDATEd at commit (or before this transaction
# next reads tracked projects) by one executemany for the batch.
_NEW_PERIODS: Slot[dict[str, dict[str, Any]]] = Slot("milestone.new_periods", dict)
_UPDATE_PERIODS = (
    sa.update(TrackedProject)
    .where(_TRACKED.project_id == sa.bindparam("pid"))
    .values(periods=sa.bindparam("periods"), updated_at=sa.bindparam("updated_at"))
)


async def prefetch_periods(uow: UnitOfWork, project_ids: Sequence[str]) -> None:
    """Loads the periods of a batch's listed projects by one Core query; `periods` then answers
    them from memory. A listing changes nothing else of its project: loading TrackedProjects and
    flushing them back through the ORM was ~a fifth of a replay's cost."""
    found = await _periods_of(uow, project_ids)
    PERIODS.keep(uow, project_ids, found, lambda row: row[0])


async def _periods_of(tx: Reading, project_ids: Sequence[str]) -> list[tuple[str, list[int]]]:
    await _settled(tx)
    connection = await session_of(tx).connection()
    rows = (await connection.execute(_PERIODS, {"ids": list(project_ids)})).all()
    return [(pid, list(periods)) for pid, periods in rows]


def _loaded(session: AsyncSession, project_id: str) -> TrackedProject | None:
    """The project's ORM object if this transaction loaded it (its state wins over the table's)."""
    found = session.identity_map.get(identity_key(TrackedProject, project_id))
    return found if isinstance(found, TrackedProject) else None


async def periods(tx: Reading, project_id: str) -> list[int] | None:
    """The periods the project is listed in, as this transaction sees them; None: not tracked."""
    loaded = _loaded(session_of(tx), project_id)
    if loaded is not None:
        return list(loaded.periods)
    uow = unit_of(tx)
    pending = uow.peek(_NEW_PERIODS) if uow is not None else None
    if pending is not None and project_id in pending:
        return list(pending[project_id]["periods"])
    known = PERIODS.rows(tx, project_id)
    if known is None:
        known = await _periods_of(tx, [project_id])
    return list(known[0][1]) if known else None


def set_periods(uow: UnitOfWork, project_id: str, periods: list[int]) -> None:
    """Sets the project's periods (and updated_at): by one UPDATE for the batch at commit, or
    on its ORM object when the transaction loaded it (its flush writes them)."""
    loaded = _loaded(uow.session, project_id)
    if loaded is not None:
        loaded.periods = periods
        loaded.updated_at = utcnow()
        save(uow, loaded)
        return
    pending = uow.peek(_NEW_PERIODS)
    if pending is None:
        pending = uow.put(_NEW_PERIODS, {})

        async def update(uow: UnitOfWork) -> None:
            await _update_periods(uow)

        uow.at_commit(_NEW_PERIODS.name, update)
    pending[project_id] = {"pid": project_id, "periods": periods, "updated_at": utcnow()}


async def _update_periods(tx: Reading) -> None:
    uow = unit_of(tx)
    pending = uow.take(_NEW_PERIODS) if uow is not None else None
    if pending:
        connection = await session_of(tx).connection()
        await connection.execute(_UPDATE_PERIODS, list(pending.values()))


# A registration's rows, INSERTed at commit (or before this transaction next reads them): one
# executemany per table for a consumer batch instead of an ORM object per row and its flush.
# Building a TrackedProject cost 0.13 CPU-ms (sqlmodel fills every default through pydantic,
# and inspect.signature(list) for `periods` alone is ~0.05 ms), a StageChange 0.03 ms. With
# the milestones and plans below: a replay at 200 events a transaction went from 0.48 to
# 0.27 CPU-s per 1,000 events (min of 5 interleaved in-process runs, 2,000 projects, SQLite).
_INSERT_PROJECT = sa.insert(TrackedProject)
_INSERT_CHANGE = sa.insert(StageChange)


def insert_tracked(uow: UnitOfWork, project: dict[str, Any], change: dict[str, Any]) -> None:
    """A newly tracked project and its first stage change (each row with every column but
    stage_change's id)."""
    uow.insert_at_commit(_INSERT_PROJECT, project)
    uow.insert_at_commit(_INSERT_CHANGE, change)
    PREFETCHED.forget(uow, project["project_id"])
    PERIODS.forget(uow, project["project_id"])


async def _settled(tx: Reading) -> None:
    """Writes the rows queued by insert_tracked: every read below sees them."""
    await insert_pending(tx, _INSERT_PROJECT)
    await insert_pending(tx, _INSERT_CHANGE)
    await _update_periods(tx)


async def get(tx: Reading, project_id: str) -> TrackedProject | None:
    known = PREFETCHED.rows(tx, project_id)
    if known is not None:
        return known[0] if known else None
    await _settled(tx)
    return await session_of(tx).get(TrackedProject, project_id)


class Standing(NamedTuple):
    """What a progress report checks of its project."""

    project_id: str
    park: str
    stage: Stage
    total_investment: int


# A Standing's columns, and the condition that picks the project (bound as "project_id").
STANDING_COLUMNS = (_TRACKED.project_id, _TRACKED.park, _TRACKED.stage, _TRACKED.total_investment)
THE_PROJECT = _TRACKED.project_id == sa.bindparam("project_id")


async def all_ids(tx: Reading) -> list[str]:
    await _settled(tx)
    stmt = select(TrackedProject.project_id).order_by(col(TrackedProject.project_id))
    return list((await session_of(tx).exec(stmt)).all())


async def many(tx: Reading, project_ids: Sequence[str]) -> list[TrackedProject]:
    await _settled(tx)
    stmt = select(TrackedProject).where(col(TrackedProject.project_id).in_(project_ids))
    return list((await session_of(tx).exec(stmt)).all())


def save(uow: UnitOfWork, row: TrackedProject | StageChange) -> None:
    uow.session.add(row)
    if isinstance(row, TrackedProject):
        PREFETCHED.add(uow, row.project_id, row)


# What a rule evaluation reads of its projects: the columns the rules and their events read, as
# named tuples (kit.named_rows: the values a TrackedProject would hold), not ORM objects.
# Loading 20,000 TrackedProjects and their 37,000 StageChanges through the ORM was ~1.2 of a
# full pass's ~5.3 CPU-s (identity map, sqlmodel's __new__ per object); the evaluation changes
# neither. The other columns (a timestamp, planned dates no rule reads) cost a conversion each.
ProjectRow = TrackedProject | NamedRow
StageRow = StageChange | NamedRow

# Of the project, what no rule and no alert event reads.
_NOT_FOR_RULES = frozenset(
    {"annual_plan_investment", "planned_fulfill_date", "planned_completion_date"}
    | {"planned_effective_date", "resume_to", "registry_version", "stage_version", "updated_at"}
)
RULE_COLUMNS = tuple(c.name for c in _TRACKED if c.name not in _NOT_FOR_RULES)
_ROWS = ByIds.of(
    lambda among: sa.select(*(_TRACKED[name] for name in RULE_COLUMNS)).where(
        among(_TRACKED.project_id)
    )
)
_CHANGES = StageChange.__table__.c  # type: ignore[attr-defined]
_HISTORY = ByIds.of(
    lambda among: (
        sa.select(_CHANGES.project_id, _CHANGES.to_stage, _CHANGES.effective_date)
        .where(among(_CHANGES.project_id))
        .order_by(_CHANGES.id)
    )
)


async def rows_for_rules(
    tx: Reading, project_ids: Sequence[str]
) -> tuple[list[NamedRow], list[NamedRow]]:
    """The projects' rows (RULE_COLUMNS) and their stage history (project_id, to_stage,
    effective_date, in order), as they stand in this transaction, for reading only."""
    await _settled(tx)
    session = session_of(tx)
    await session.flush()  # a Core read does not autoflush: changed projects first
    connection = await session.connection()
    rows = await driver_named_rows(connection, *_ROWS.params(project_ids))
    return rows, await driver_named_rows(connection, *_HISTORY.params(project_ids))


async def history(tx: Reading, project_ids: Sequence[str]) -> list[StageChange]:
    await _settled(tx)
    session = session_of(tx)
    stmt = (
        select(StageChange)
        .where(col(StageChange.project_id).in_(project_ids))
        .order_by(col(StageChange.id))
    )
    return list((await session.exec(stmt)).all())
