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
from sanpi.kit.legacy import Prefetched, insert_at_commit, insert_pending
from sanpi.kit.named_rows import NamedRow, named_rows
from sanpi.kit.slots import Slot
from sanpi.kit.unit_of_work import UnitOfWork
from sanpi.milestone.lifecycle.models import StageChange, TrackedProject

# A consumer batch's projects, loaded up front.
PREFETCHED: Prefetched[TrackedProject] = Prefetched("milestone.projects")
_TRACKED = TrackedProject.__table__.c  # type: ignore[attr-defined]


async def prefetch(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Loads a batch's projects in one query; `get` then answers them from memory. Replaying the
    registry's topic spent a third of its time in one lookup per event, each flushing the
    batch's pending rows first."""
    found = await many(session, project_ids)
    PREFETCHED.keep(session, project_ids, found, lambda p: p.project_id)


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


async def prefetch_periods(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Loads the periods of a batch's listed projects by one Core query; `periods` then answers
    them from memory. A listing changes nothing else of its project: loading TrackedProjects and
    flushing them back through the ORM was ~a fifth of a replay's cost."""
    found = await _periods_of(session, project_ids)
    PERIODS.keep(session, project_ids, found, lambda row: row[0])


async def _periods_of(
    session: AsyncSession, project_ids: Sequence[str]
) -> list[tuple[str, list[int]]]:
    await _settled(session)
    connection = await session.connection()
    rows = (await connection.execute(_PERIODS, {"ids": list(project_ids)})).all()
    return [(pid, list(periods)) for pid, periods in rows]


def _loaded(session: AsyncSession, project_id: str) -> TrackedProject | None:
    """The project's ORM object if this transaction loaded it (its state wins over the table's)."""
    found = session.identity_map.get(identity_key(TrackedProject, project_id))
    return found if isinstance(found, TrackedProject) else None


async def periods(session: AsyncSession, project_id: str) -> list[int] | None:
    """The periods the project is listed in, as this transaction sees them; None: not tracked."""
    loaded = _loaded(session, project_id)
    if loaded is not None:
        return list(loaded.periods)
    uow = UnitOfWork.find(session)
    pending = uow.peek(_NEW_PERIODS) if uow is not None else None
    if pending is not None and project_id in pending:
        return list(pending[project_id]["periods"])
    known = PERIODS.rows(session, project_id)
    if known is None:
        known = await _periods_of(session, [project_id])
    return list(known[0][1]) if known else None


def set_periods(session: AsyncSession, project_id: str, periods: list[int]) -> None:
    """Sets the project's periods (and updated_at): by one UPDATE for the batch at commit, or
    on its ORM object when the transaction loaded it (its flush writes them)."""
    loaded = _loaded(session, project_id)
    if loaded is not None:
        loaded.periods = periods
        loaded.updated_at = utcnow()
        save(session, loaded)
        return
    uow = UnitOfWork.of(session)
    pending = uow.peek(_NEW_PERIODS)
    if pending is None:
        pending = uow.put(_NEW_PERIODS, {})

        async def update(uow: UnitOfWork) -> None:
            await _update_periods(uow.session)

        uow.at_commit(_NEW_PERIODS.name, update)
    pending[project_id] = {"pid": project_id, "periods": periods, "updated_at": utcnow()}


async def _update_periods(session: AsyncSession) -> None:
    uow = UnitOfWork.find(session)
    pending = uow.take(_NEW_PERIODS) if uow is not None else None
    if pending:
        connection = await session.connection()
        await connection.execute(_UPDATE_PERIODS, list(pending.values()))


# A registration's rows, INSERTed at commit (or before this transaction next reads them): one
# executemany per table for a consumer batch instead of an ORM object per row and its flush.
# Building a TrackedProject cost 0.13 CPU-ms (sqlmodel fills every default through pydantic,
# and inspect.signature(list) for `periods` alone is ~0.05 ms), a StageChange 0.03 ms. With
# the milestones and plans below: a replay at 200 events a transaction went from 0.48 to
# 0.27 CPU-s per 1,000 events (min of 5 interleaved in-process runs, 2,000 projects, SQLite).
_INSERT_PROJECT = sa.insert(TrackedProject)
_INSERT_CHANGE = sa.insert(StageChange)


def insert_tracked(session: AsyncSession, project: dict[str, Any], change: dict[str, Any]) -> None:
    """A newly tracked project and its first stage change (each row with every column but
    stage_change's id)."""
    insert_at_commit(session, _INSERT_PROJECT, project)
    insert_at_commit(session, _INSERT_CHANGE, change)
    PREFETCHED.forget(session, project["project_id"])
    PERIODS.forget(session, project["project_id"])


async def _settled(session: AsyncSession) -> None:
    """Writes the rows queued by insert_tracked: every read below sees them."""
    await insert_pending(session, _INSERT_PROJECT)
    await insert_pending(session, _INSERT_CHANGE)
    await _update_periods(session)


async def get(session: AsyncSession, project_id: str) -> TrackedProject | None:
    known = PREFETCHED.rows(session, project_id)
    if known is not None:
        return known[0] if known else None
    await _settled(session)
    return await session.get(TrackedProject, project_id)


class Standing(NamedTuple):
    """What a progress report checks of its project."""

    project_id: str
    park: str
    stage: Stage
    total_investment: int


# A Standing's columns, and the condition that picks the project (bound as "project_id").
STANDING_COLUMNS = (_TRACKED.project_id, _TRACKED.park, _TRACKED.stage, _TRACKED.total_investment)
THE_PROJECT = _TRACKED.project_id == sa.bindparam("project_id")


async def all_ids(session: AsyncSession) -> list[str]:
    await _settled(session)
    stmt = select(TrackedProject.project_id).order_by(col(TrackedProject.project_id))
    return list((await session.exec(stmt)).all())


async def many(session: AsyncSession, project_ids: Sequence[str]) -> list[TrackedProject]:
    await _settled(session)
    stmt = select(TrackedProject).where(col(TrackedProject.project_id).in_(project_ids))
    return list((await session.exec(stmt)).all())


def save(session: AsyncSession, row: TrackedProject | StageChange) -> None:
    session.add(row)
    if isinstance(row, TrackedProject):
        PREFETCHED.add(session, row.project_id, row)


# What a rule evaluation reads of its projects: every column as named tuples (kit.named_rows:
# the values a TrackedProject would hold), not ORM objects. Loading 20,000 TrackedProjects and
# their 37,000 StageChanges through the ORM was ~1.2 of a full pass's ~5.3 CPU-s (identity map,
# sqlmodel's __new__ per object); the evaluation changes neither.
ProjectRow = TrackedProject | NamedRow
StageRow = StageChange | NamedRow

_ROWS = sa.select(TrackedProject.__table__).where(  # type: ignore[attr-defined]
    _TRACKED.project_id.in_(sa.bindparam("ids", expanding=True))
)
_CHANGES = StageChange.__table__.c  # type: ignore[attr-defined]
_HISTORY = (
    sa.select(_CHANGES.project_id, _CHANGES.to_stage, _CHANGES.effective_date)
    .where(_CHANGES.project_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_CHANGES.id)
)


async def rows_for_rules(
    session: AsyncSession, project_ids: Sequence[str]
) -> tuple[list[NamedRow], list[NamedRow]]:
    """The projects' rows and their stage history (project_id, to_stage, effective_date, in
    order), as they stand in this transaction, for reading only."""
    await _settled(session)
    await session.flush()  # a Core read does not autoflush: changed projects first
    connection = await session.connection()
    ids = {"ids": list(project_ids)}
    rows = named_rows(await connection.execute(_ROWS, ids))
    return rows, named_rows(await connection.execute(_HISTORY, ids))


async def history(session: AsyncSession, project_ids: Sequence[str]) -> list[StageChange]:
    await _settled(session)
    stmt = (
        select(StageChange)
        .where(col(StageChange.project_id).in_(project_ids))
        .order_by(col(StageChange.id))
    )
    return list((await session.exec(stmt)).all())
