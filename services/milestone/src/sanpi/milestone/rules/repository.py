"""Every SQL statement about alerts and the pinned evaluation date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import SEVERITY_ORDER, AlertRule, Severity, TargetKind, TargetSet
from sanpi.kit import utcnow
from sanpi.kit.id_spans import ByIds, of_ids
from sanpi.kit.named_rows import NamedRow, named_rows
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.kit.unit_of_work import UnitOfWork
from sanpi.milestone.rules.models import (
    Alert,
    AlertState,
    EvaluationDue,
    PinnedDate,
    PortfolioTarget,
)

PINNED: sa.Table = PinnedDate.__table__  # type: ignore[attr-defined]


def _pin(dialect: Any) -> sa.Insert:
    insert = dialect.insert(PINNED)
    return insert.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["id"],
        set_={
            "as_of": insert.excluded.as_of,
            "pinned_by": insert.excluded.pinned_by,
            "pinned_at": insert.excluded.pinned_at,
        },
    )


_PIN = {"sqlite": _pin(sqlite), "postgresql": _pin(postgresql)}


async def set_pin(session: AsyncSession, as_of: dt.date, by: str) -> None:
    """Pins the day, one row at most. An upsert: two pins at once on PostgreSQL both read "no
    pin" and both inserted it, and the second failed on the primary key (409)."""
    statement = _PIN[session.get_bind().dialect.name]
    connection = await session.connection()
    await connection.execute(
        statement, {"id": 1, "as_of": as_of, "pinned_by": by, "pinned_at": utcnow()}
    )
    # A PinnedDate this session loaded before would still show the earlier day.
    for row in list(session.identity_map.values()):
        if isinstance(row, PinnedDate):
            session.expire(row)


# An evaluation's alert writes, one executemany each: a first pass at province scale raises
# ~10,500 alerts, and an Alert object cost ~0.1 CPU-ms to build (sqlmodel fills every default
# through pydantic) plus its share of the ORM flush; a day's first pass refreshes every firing
# alert's figures, which the unit of work flushed as one UPDATE per row.
_INSERT = sa.insert(Alert)
_UPDATE = sa.update(Alert).where(col(Alert.id) == sa.bindparam("alert_id"))
# What the rules say of an alert, and what an evaluation changes on a stored one (every row of
# one UPDATE sets them all).
FIGURES = (
    "severity",
    "title",
    "message",
    "title_en",
    "message_en",
    "metric_value",
    "threshold",
)
CHANGING = (*FIGURES, "as_of", "evaluation_id", "updated_at", "state", "resolved_at")


def changed(row: NamedRow, values: dict[str, Any]) -> dict[str, Any]:
    """The stored alert `row` with `values` as its new state: every column, and under
    "alert_id" the key of its row in `write`'s UPDATE (whose parameters are CHANGING)."""
    merged: dict[str, Any] = row._asdict()
    merged.update(values)
    merged["alert_id"] = row.id
    return merged


async def write(
    session: AsyncSession, new: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    """INSERTs the `new` alerts (every column, always the same keys) and UPDATEs the rows
    `changed` made the parameters of, now: a later read of the transaction sees them."""
    if not new and not updates:
        return
    connection = await session.connection()
    if new:
        await connection.execute(_INSERT, new)
    if updates:
        await connection.execute(
            _UPDATE, [{n: u[n] for n in (*CHANGING, "alert_id")} for u in updates]
        )
        # An Alert object this session loaded before would still show the old state (the
        # evaluation reads rows, not objects): give it what was written.
        written = {u["alert_id"]: u for u in updates}
        for loaded in list(session.identity_map.values()):
            if isinstance(loaded, Alert) and loaded.id in written:
                for name in CHANGING:
                    set_committed_value(loaded, name, written[loaded.id][name])


# Built once, run with parameters: it runs after every report and project event. Rows, not
# Alert objects: a day's first full pass at province scale reads ~16,000 firing alerts, and as
# ORM objects they cost ~0.45 of a steady pass's ~6.8 s (identity map, sqlmodel's __new__).
ALERTS: sa.Table = Alert.__table__  # type: ignore[attr-defined]
_FIRING_FOR = ByIds.of(
    lambda among: sa.select(ALERTS).where(
        ALERTS.c.state == AlertState.FIRING, among(ALERTS.c.project_id)
    )
)


async def firing_for(session: AsyncSession, project_ids: Sequence[str]) -> list[NamedRow]:
    """The firing alerts of these projects as rows (named tuples of every column), as they
    stand in this transaction."""
    await session.flush()  # a Core read does not autoflush
    connection = await session.connection()
    rows = named_rows(await connection.execute(*_FIRING_FOR.params(project_ids)))
    return of_ids(rows, project_ids)


_FIRING_SCOPED = sa.select(ALERTS).where(
    ALERTS.c.state == AlertState.FIRING, ALERTS.c.project_id.is_(None)
)


async def firing_scoped(session: AsyncSession) -> list[NamedRow]:
    """The firing alerts of no project, the scoped rules' (R14, R15), as rows like firing_for's."""
    await session.flush()
    connection = await session.connection()
    return named_rows(await connection.execute(_FIRING_SCOPED))


async def set_target(session: AsyncSession, data: TargetSet) -> None:
    """Keeps the registry's target (the same event again changes nothing)."""
    row = await session.get(PortfolioTarget, (data.year, data.scope, data.kind))
    if row is None:
        row = PortfolioTarget(year=data.year, scope=data.scope, kind=data.kind, value=data.value)
    row.value, row.set_by, row.updated_at = data.value, data.set_by, utcnow()
    session.add(row)


async def targets_of(session: AsyncSession, year: int) -> dict[str, dict[TargetKind, int]]:
    """The year's targets by scope (the district's name or a park), then kind."""
    stmt = select(PortfolioTarget).where(PortfolioTarget.year == year)
    found: dict[str, dict[TargetKind, int]] = {}
    for row in (await session.exec(stmt)).all():
        found.setdefault(row.scope, {})[TargetKind(row.kind)] = row.value
    return found


async def firing(session: AsyncSession) -> list[Alert]:
    stmt = select(Alert).where(Alert.state == AlertState.FIRING)
    return list((await session.exec(stmt)).all())


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: CreatedKey | None,
    project_id: str | None,
    rule: AlertRule | None,
    severity: Severity | None,
    park: str | None,
    state: AlertState | None,
) -> list[Alert]:
    stmt = select(Alert)
    if project_id is not None:
        stmt = stmt.where(Alert.project_id == project_id)
    if rule is not None:
        stmt = stmt.where(Alert.rule == rule)
    if severity is not None:
        stmt = stmt.where(Alert.severity == severity)
    if park is not None:
        stmt = stmt.where(Alert.park == park)
    if state is not None:
        stmt = stmt.where(Alert.state == state)
    stmt = stmt.where(after_created(col(Alert.created_at), col(Alert.id), after))
    stmt = stmt.order_by(col(Alert.created_at), col(Alert.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def pinned(session: AsyncSession) -> PinnedDate | None:
    return await session.get(PinnedDate, 1)


async def unpin(session: AsyncSession) -> None:
    await session.exec(delete(PinnedDate))


EVALUATION_DUE: sa.Table = EvaluationDue.__table__  # type: ignore[attr-defined]


def _mark(dialect: Any) -> sa.Insert:
    insert = dialect.insert(EVALUATION_DUE)
    return insert.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["project_id"],
        set_={"token": insert.excluded.token, "marked_at": insert.excluded.marked_at},
    )


# Built once per dialect, run at commit with the transaction's marks.
_MARK = {"sqlite": _mark(sqlite), "postgresql": _mark(postgresql)}


def mark_due(uow: UnitOfWork, project_id: str, token: str) -> None:
    """The project's mark (a new token if it has one), written when the transaction commits."""
    statement = _MARK[uow.session.get_bind().dialect.name]
    uow.insert_at_commit(
        statement, {"project_id": project_id, "token": token, "marked_at": utcnow()}
    )


async def unmark(session: AsyncSession, marks: Sequence[tuple[str, str]]) -> None:
    """Deletes these (project, token) marks; a mark whose token changed since stays, and so
    does, on PostgreSQL, a mark another transaction holds. That one is being rewritten by a
    change (its new token stays for the next pass anyway) or deleted by another replica's pass.
    Waiting for it deadlocked: a request writes its mark at commit and then its milestone row,
    while the pass had already written that milestone's status and then waited on the mark."""
    key = sa.tuple_(col(EvaluationDue.project_id), col(EvaluationDue.token))
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(marks), 400):
        chunk = marks[start : start + 400]
        if postgres:
            free = (
                sa.select(col(EvaluationDue.project_id), col(EvaluationDue.token))
                .where(key.in_(chunk))
                .with_for_update(skip_locked=True)
            )
            await session.exec(delete(EvaluationDue).where(key.in_(free)))
        else:
            await session.exec(delete(EvaluationDue).where(key.in_(chunk)))


async def due_before(session: AsyncSession, before: dt.datetime | None) -> list[tuple[str, str]]:
    """Marks written before `before` (all of them with None), oldest first."""
    stmt = select(EvaluationDue.project_id, EvaluationDue.token)
    if before is not None:
        stmt = stmt.where(col(EvaluationDue.marked_at) < before)
    stmt = stmt.order_by(col(EvaluationDue.marked_at))
    return [(p, t) for p, t in (await session.exec(stmt)).all()]


# A severity as a number, so that SQL can take the worst (SEVERITY_ORDER: blue 0 … red 4). Each
# comparison binds through the column's type (the column stores the enum's names).
_RANK = case(*[(col(Alert.severity) == s, n) for s, n in SEVERITY_ORDER.items()], else_=None)


async def colour_counts(
    session: AsyncSession, active: sa.Subquery
) -> list[tuple[str, Severity, int]]:
    """(park, colour, projects) over every active project: its colour is its worst firing
    alert, green without one. One GROUP BY: the traffic lights of 20,000 projects read ~20,000
    ORM rows and their alerts before (a second per 红黄榜 page at province scale)."""
    worst = (
        select(col(Alert.project_id).label("project_id"), func.max(_RANK).label("worst"))
        .where(col(Alert.state) == AlertState.FIRING, col(Alert.project_id).is_not(None))
        .group_by(col(Alert.project_id))
        .subquery()
    )
    stmt = (
        select(active.c.park, worst.c.worst, func.count())
        .select_from(active)
        .outerjoin(worst, worst.c.project_id == active.c.project_id)
        .group_by(active.c.park, worst.c.worst)
    )
    by_rank = {n: s for s, n in SEVERITY_ORDER.items()}
    return [
        (str(park), by_rank[rank] if rank is not None else Severity.GREEN, int(number))
        for park, rank, number in (await session.exec(stmt)).all()
    ]
