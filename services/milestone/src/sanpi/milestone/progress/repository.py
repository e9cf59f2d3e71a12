"""Every SQL statement about investment plans and progress reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Reading, UnitOfWork
from sanpi.kit.id_spans import Among, ByIds
from sanpi.kit.named_rows import driver_named_rows
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.kit.prefetch import Prefetched
from sanpi.kit.unit_of_work import insert_pending, session_of
from sanpi.milestone.lifecycle import repository as lifecycle_repository
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.repository import Standing
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport
from sanpi.milestone.rules.facts import PlanRow, ReportRow, ReportRows

# A consumer batch's investment plans by project, loaded up front.
PREFETCHED: Prefetched[InvestmentPlan] = Prefetched("milestone.plans")


async def prefetch(uow: UnitOfWork, project_ids: Sequence[str]) -> None:
    """Loads a batch's investment plans in one query; `plan` then answers from memory."""
    PREFETCHED.keep(uow, project_ids, await plans(uow, project_ids), lambda p: p.project_id)


def save(uow: UnitOfWork, row: InvestmentPlan | ProgressReport) -> None:
    uow.session.add(row)
    if isinstance(row, InvestmentPlan):
        PREFETCHED.add(uow, row.project_id, row)


# New plans of a consumer batch (a registration's year), INSERTed at commit or before this
# transaction next reads plans: one executemany instead of an ORM object each.
_INSERT_PLAN = sa.insert(InvestmentPlan)


def insert_plan(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """A new plan as plain values (every column, always the same keys)."""
    uow.insert_at_commit(_INSERT_PLAN, row)
    PREFETCHED.forget(uow, row["project_id"])


class Neighbours(NamedTuple):
    """What a new report of a period is checked against, from the project's other reports."""

    same_id: str | None  # the report of the same period, if any
    same_created_at: dt.datetime | None
    before: int | None  # the highest cumulative of another report ending on or before it
    after: int | None  # the lowest cumulative of another report ending on or after it


def _neighbours_query() -> sa.Select[str | None, dt.datetime | None, int | None, int | None]:
    cum = col(ProgressReport.completed_investment_cum)
    end = col(ProgressReport.period_end)
    is_same = col(ProgressReport.period_key) == sa.bindparam("period_key")
    is_other = col(ProgressReport.period_key) != sa.bindparam("period_key")
    period_end = sa.bindparam("period_end", type_=sa.Date)
    return sa.select(
        sa.func.max(sa.case((is_same, col(ProgressReport.id)))),
        sa.func.max(sa.case((is_same, col(ProgressReport.created_at)))),
        sa.func.max(sa.case((is_other & (end <= period_end), cum))),
        sa.func.min(sa.case((is_other & (end >= period_end), cum))),
    ).where(col(ProgressReport.project_id) == sa.bindparam("project_id"))


# Built once, run with parameters: building the statement and its cache key on every report
# cost as much as running it.
_NEIGHBOURS = _neighbours_query()
_INSERT_REPORT = sa.insert(ProgressReport)


# The project's standing and its neighbours in one statement: the aggregate always answers
# one row, so the project's own row decides whether there is one. Two statements cost a
# progress report ~0.2 CPU-ms more (SQLAlchemy's own work per statement, not SQLite's).
_NEIGHBOURS_ROW = _NEIGHBOURS.subquery()
_STANDING_AND_NEIGHBOURS = (
    sa.select(*lifecycle_repository.STANDING_COLUMNS, *_NEIGHBOURS_ROW.c)
    .join_from(TrackedProject, _NEIGHBOURS_ROW, sa.true())
    .where(lifecycle_repository.THE_PROJECT)
)


async def standing_and_neighbours(
    session: AsyncSession, *, project_id: str, period_key: str, period_end: dt.date
) -> tuple[Standing, Neighbours] | None:
    """The project's standing (None if it is not tracked) and its reports' Neighbours, by one
    statement. One aggregate row instead of the project's reports as ORM objects: a
    province-scale project holds ~90 of them, and loading them cost more than the rest of the
    request. For a transaction that changed no project yet (a report's request): it reads the
    database, not what the transaction keeps in memory (lifecycle's PREFETCHED, pending rows)."""
    params = {"project_id": project_id, "period_key": period_key, "period_end": period_end}
    connection = await session.connection()
    row = (await connection.execute(_STANDING_AND_NEIGHBOURS, params)).first()
    if row is None:
        return None
    width = len(Standing._fields)
    return Standing(*row[:width]), Neighbours(*row[width:])


# A batch's rows are checked against their projects by one statement per BATCH_CHUNK rows: the
# rows as a derived table (one SELECT of bound values per row, UNION ALL: portable to SQLite and
# PostgreSQL, unlike VALUES with column names), joined to each project and its reports.
BATCH_CHUNK = 200
_BATCH_QUERIES: dict[int, sa.Executable] = {}


def _batch_query(size: int) -> sa.Executable:
    """The statement of `size` rows (bound as idx{i}, pid{i}, key{i}, end{i}), built once per size."""
    found = _BATCH_QUERIES.get(size)
    if found is not None:
        return found
    wanted = sa.union_all(
        *(
            sa.select(
                sa.bindparam(f"idx{i}", type_=sa.Integer).label("idx"),
                sa.bindparam(f"pid{i}", type_=sa.String).label("project_id"),
                sa.bindparam(f"key{i}", type_=sa.String).label("period_key"),
                sa.bindparam(f"end{i}", type_=sa.Date).label("period_end"),
            )
            for i in range(size)
        )
    ).subquery("wanted")
    report = ProgressReport.__table__.c  # type: ignore[attr-defined]
    tracked = TrackedProject.__table__.c  # type: ignore[attr-defined]
    is_same = report.period_key == wanted.c.period_key
    is_other = report.period_key != wanted.c.period_key
    statement = (
        sa.select(
            wanted.c.idx,
            *lifecycle_repository.STANDING_COLUMNS,
            sa.func.max(sa.case((is_same, report.id))),
            sa.func.max(sa.case((is_same, report.created_at))),
            sa.func.max(
                sa.case(
                    (
                        is_other & (report.period_end <= wanted.c.period_end),
                        report.completed_investment_cum,
                    )
                )
            ),
            sa.func.min(
                sa.case(
                    (
                        is_other & (report.period_end >= wanted.c.period_end),
                        report.completed_investment_cum,
                    )
                )
            ),
        )
        .select_from(
            wanted.join(TrackedProject, tracked.project_id == wanted.c.project_id).outerjoin(
                ProgressReport, report.project_id == wanted.c.project_id
            )
        )
        .group_by(wanted.c.idx, *lifecycle_repository.STANDING_COLUMNS)
    )
    _BATCH_QUERIES[size] = statement
    return statement


async def standings_and_neighbours(
    session: AsyncSession, wanted: Sequence[tuple[int, str, str, dt.date]]
) -> dict[int, tuple[Standing, Neighbours]]:
    """For each (index, project_id, period_key, period_end), what standing_and_neighbours gives
    one report, by one statement per BATCH_CHUNK rows; an index whose project is not tracked is
    missing from the answer. Reads the database as standing_and_neighbours does."""
    connection = await session.connection()
    out: dict[int, tuple[Standing, Neighbours]] = {}
    width = len(Standing._fields)
    for start in range(0, len(wanted), BATCH_CHUNK):
        chunk = wanted[start : start + BATCH_CHUNK]
        params: dict[str, Any] = {}
        for i, (idx, project_id, period_key, period_end) in enumerate(chunk):
            params.update(
                {
                    f"idx{i}": idx,
                    f"pid{i}": project_id,
                    f"key{i}": period_key,
                    f"end{i}": period_end,
                }
            )
        for row in await connection.execute(_batch_query(len(chunk)), params):
            out[row[0]] = (Standing(*row[1 : width + 1]), Neighbours(*row[width + 1 :]))
    return out


async def reports_of(session: AsyncSession, project_ids: Sequence[str]) -> list[ProgressReport]:
    """Every report of these projects (a batch checks a project with several rows against them)."""
    stmt = select(ProgressReport).where(col(ProgressReport.project_id).in_(project_ids))
    return list((await session.exec(stmt)).all())


async def reports_by_id(session: AsyncSession, report_ids: Sequence[str]) -> list[ProgressReport]:
    stmt = select(ProgressReport).where(col(ProgressReport.id).in_(report_ids))
    return list((await session.exec(stmt)).all())


async def insert_reports(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New reports (every column, the same keys each) by one executemany."""
    if rows:
        connection = await session.connection()
        await connection.execute(_INSERT_REPORT, list(rows))


_REPORT = ProgressReport.__table__.c  # type: ignore[attr-defined]


async def update_reports(session: AsyncSession, changes: Sequence[dict[str, Any]]) -> None:
    """Corrections by one executemany: each change is the report's `id` and its changed columns
    (the same keys each)."""
    if not changes:
        return
    names = [k for k in changes[0] if k != "id"]
    stmt = (
        sa.update(ProgressReport)
        .where(_REPORT.id == sa.bindparam("report_id"))
        .values({name: sa.bindparam(name) for name in names})
    )
    connection = await session.connection()
    await connection.execute(
        stmt, [{"report_id": c["id"], **{n: c[n] for n in names}} for c in changes]
    )


async def insert_report(session: AsyncSession, values: dict[str, Any]) -> None:
    # Core, not the ORM: no model object to build (pydantic defaults) and no unit-of-work flush.
    connection = await session.connection()
    await connection.execute(_INSERT_REPORT, values)


async def update_report(session: AsyncSession, report_id: str, values: dict[str, Any]) -> None:
    stmt = sa.update(ProgressReport).where(col(ProgressReport.id) == report_id).values(values)
    connection = await session.connection()
    await connection.execute(stmt)


async def plan(tx: Reading, project_id: str, year: int) -> InvestmentPlan | None:
    known = PREFETCHED.rows(tx, project_id)
    if known is not None:
        return next((p for p in known if p.year == year), None)
    await insert_pending(tx, _INSERT_PLAN)
    session = session_of(tx)
    stmt = select(InvestmentPlan).where(
        InvestmentPlan.project_id == project_id, InvestmentPlan.year == year
    )
    return (await session.exec(stmt)).first()


async def plans(tx: Reading, project_ids: Sequence[str]) -> list[InvestmentPlan]:
    await insert_pending(tx, _INSERT_PLAN)
    session = session_of(tx)
    stmt = (
        select(InvestmentPlan)
        .where(col(InvestmentPlan.project_id).in_(project_ids))
        .order_by(col(InvestmentPlan.year))
    )
    return list((await session.exec(stmt)).all())


# Plain columns, not model objects (the model's two timestamps cost a timezone conversion each),
# and of one year: the rules judge the plan of the evaluation's year, and decoding the other
# years' JSON splits was half of reading the plans at province scale (0.33 of 0.65 s).
_PLAN_FACTS = ByIds.of(
    lambda among: sa.select(
        col(InvestmentPlan.project_id),
        col(InvestmentPlan.year),
        col(InvestmentPlan.annual_plan),
        col(InvestmentPlan.monthly),
        col(InvestmentPlan.xun),
    ).where(among(col(InvestmentPlan.project_id)), col(InvestmentPlan.year) == sa.bindparam("year"))
)


async def plan_facts(tx: Reading, project_ids: Sequence[str], year: int) -> list[PlanRow]:
    """The plans of these projects for `year`. On the session's connection: the caller flushes
    first if it changed plan objects in this transaction; plans queued by insert_plan are
    written here."""
    await insert_pending(tx, _INSERT_PLAN)
    connection = await session_of(tx).connection()
    # From the driver's rows, the JSON columns decoded column by column (no Row each).
    rows = await driver_named_rows(connection, *_PLAN_FACTS.params(project_ids, year=year))
    return list(map(PlanRow._make, rows))


_REPORT_COLUMNS = (
    col(ProgressReport.project_id),
    col(ProgressReport.period_key),
    col(ProgressReport.completed_investment_cum),
    col(ProgressReport.completed_investment_ytd),
    col(ProgressReport.physical_progress_pct),
    col(ProgressReport.submitted_on),
    col(ProgressReport.lowered_by_correction),
    col(ProgressReport.funds_arrived_cum),
)
# Built once, run with parameters (a full pass runs them 50 times, each report 2 per POST).
_REPORT_FACTS = ByIds.of(
    lambda among: sa.select(*_REPORT_COLUMNS).where(among(col(ProgressReport.project_id)))
)


def _recent_report_facts(among: Among) -> sa.CompoundSelect[Any]:
    """The reports of periods ending on or after :since, then one row per project with older
    ones: (project_id, NULL, highest cumulative, NULL, highest physical %, NULL, NULL, NULL).
    Their funds arrived are left out (not in the index the aggregate reads): R03 asks for every
    report of a project whose recent ones carry none."""
    end = col(ProgressReport.period_end)
    since = sa.bindparam("since", type_=sa.Date)
    mine = among(col(ProgressReport.project_id))
    recent = sa.select(*_REPORT_COLUMNS).where(mine, end >= since)
    older = (
        sa.select(
            col(ProgressReport.project_id),
            sa.null(),
            sa.func.max(col(ProgressReport.completed_investment_cum)),
            sa.null(),
            sa.func.max(col(ProgressReport.physical_progress_pct)),
            sa.null(),
            sa.null(),
            sa.null(),
        )
        .where(mine, end < since)
        .group_by(col(ProgressReport.project_id))
    )
    return sa.union_all(recent, older)


_RECENT_REPORT_FACTS = ByIds.of(_recent_report_facts)


def _same(value: Any) -> Any:
    return value


async def _driver_rows(
    session: AsyncSession, statement: sa.Executable, params: dict[str, Any]
) -> ReportRows:
    """The statement's rows as the DBAPI cursor holds them (SQLAlchemy compiles and binds it),
    without a Row object and type processing each: a full pass at province scale reads ~255k
    reports, and SQLAlchemy's result handling cost as much as SQLite's query (~0.2 CPU-s)."""
    connection = await session.connection()
    result = await connection.execute(statement, params)
    try:
        rows: Sequence[ReportRow] = result.cursor.fetchall()
    finally:
        result.close()
    # SQLite has no date type: its driver returns the ISO text SQLAlchemy would have parsed.
    text_dates = connection.dialect.name == "sqlite"
    return ReportRows(rows, dt.date.fromisoformat if text_dates else _same)


async def report_facts(session: AsyncSession, project_ids: Sequence[str]) -> ReportRows:
    """Every report of these projects as plain rows (see ReportRow), no ORM object per row: as
    ORM objects a full evaluation's ~1.8M reports at province scale cost 28 CPU-µs a row."""
    return await _driver_rows(session, *_REPORT_FACTS.params(project_ids))


async def recent_report_facts(
    session: AsyncSession, project_ids: Sequence[str], since: dt.date
) -> ReportRows:
    """The reports of periods ending on or after `since` as in `report_facts`, and for the
    projects with older ones, a row of their highest figures (see ReportRow). One statement:
    SQLite aggregates the older rows in C instead of handing ~80 a project to Python (a full
    pass at province scale)."""
    return await _driver_rows(session, *_RECENT_REPORT_FACTS.params(project_ids, since=since))


async def report_page(
    session: AsyncSession, *, project_id: str, limit: int, after: CreatedKey | None
) -> list[ProgressReport]:
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.project_id == project_id)
        .where(after_created(col(ProgressReport.created_at), col(ProgressReport.id), after))
        .order_by(col(ProgressReport.created_at), col(ProgressReport.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
