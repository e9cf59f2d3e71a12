"""The indicators' reads: the formulas of `formulas` as SQL aggregates over the ledger in scope, so
the district's figures at 20,000 projects are a few scans in the database, not 20,000 rows
shipped to Python. `formulas` stays the definition; the API test compares the two on a generated
ledger (tests/unit/test_registry_indicators_recompute.py), on SQLite and PostgreSQL.

Every condition is a comparison with a bound date (or a UTC instant for the registration day), so
the statements are the same on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select, true
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, CancelReason, Category, ChainTag, Stage, TargetKind
from sanpi.kit import CAMPAIGN_TZ
from sanpi.registry.indicators import formulas
from sanpi.registry.indicators.models import FundsReport
from sanpi.registry.listings.models import Listing
from sanpi.registry.projects.models import Project


def _day_starts(day: dt.date) -> dt.datetime:
    """The UTC instant `day` begins in Shanghai: a project created before it registered earlier."""
    return dt.datetime.combine(day, dt.time(), CAMPAIGN_TZ).astimezone(dt.UTC)


def _on_or_before(column: Any, day: dt.date) -> ColumnElement[bool]:
    """`column` holds a day and it is `day` or earlier (never NULL: false when the day is not)."""
    return and_(col(column).is_not(None), col(column) <= day)


def _day_within(
    column: Any, first: dt.date | None, last: dt.date, *, undeclared: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The day `column` holds falls in [first, last] (no lower bound when `first` is None); when
    it holds none and `undeclared` is true, the registration day in Shanghai stands for it."""
    declared = [col(column).is_not(None), col(column) <= last]
    registered = [
        col(column).is_(None),
        undeclared,
        col(Project.created_at) < _day_starts(last + dt.timedelta(days=1)),
    ]
    if first is not None:
        declared.append(col(column) >= first)
        registered.append(col(Project.created_at) >= _day_starts(first))
    return or_(and_(*declared), and_(*registered))


@dataclass(frozen=True)
class Reached:
    """formulas.facts_as_of as SQL conditions on a project row, as of one day."""

    signed: ColumnElement[bool]
    fulfilled: ColumnElement[bool]
    started: ColumnElement[bool]
    produced: ColumnElement[bool]
    effective: ColumnElement[bool]
    cancelled: ColumnElement[bool]
    live: ColumnElement[bool]  # not 调出 as of the day: counted in the denominators


def reached(as_of: dt.date) -> Reached:
    """A stage counts once its day has come; a later stage implies the earlier ones."""
    effective = _on_or_before(Project.effective_date, as_of)
    produced = or_(effective, _on_or_before(Project.production_date, as_of))
    started = or_(produced, _started_within(None, as_of))
    cancelled = _on_or_before(Project.cancelled_on, as_of)
    withdrawn = and_(cancelled, col(Project.cancel_reason_code) == CancelReason.WITHDRAWN)
    return Reached(
        signed=_signed_within(None, as_of),
        fulfilled=or_(started, _on_or_before(Project.fulfilled_date, as_of)),
        started=started,
        produced=produced,
        effective=effective,
        cancelled=cancelled,
        live=not_(withdrawn),
    )


def _signed_within(first: dt.date | None, last: dt.date) -> ColumnElement[bool]:
    """Registered as a signing, on a day in [first, last] (undeclared: the registration day)."""
    return and_(
        col(Project.initial_stage) == Stage.SIGNED,
        _day_within(Project.signed_date, first, last, undeclared=true()),
    )


def _started_within(first: dt.date | None, last: dt.date) -> ColumnElement[bool]:
    """projects.service.counted_start (the rule's definition) falls in [first, last]. Restated in
    SQL because the figures are aggregates over every row in the database (20,000 projects, one
    scan) rather than each row shipped to Python; a test runs both over the same rows, edge
    cases included (tests/unit/test_registry_indicators_recompute.py)."""
    return _day_within(
        Project.started_date,
        first,
        last,
        undeclared=col(Project.initial_stage) == Stage.UNDER_CONSTRUCTION,
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _amount(condition: ColumnElement[bool], amount: Any) -> Any:
    return func.sum(case((condition, amount), else_=0))


@dataclass(frozen=True)
class Portfolio:
    """What the whole portfolio in scope adds up to on one day."""

    cumulative: formulas.ConversionRates
    published: formulas.PublishedRates
    actuals: dict[TargetKind, int]


def _funds_as_of(as_of: dt.date) -> Any:
    """Each project's 到位资金 of its latest report period ended by `as_of` (a subquery)."""
    last = (
        select(col(FundsReport.project_id), func.max(col(FundsReport.period_end)).label("day"))
        .where(col(FundsReport.period_end) <= as_of)
        .group_by(col(FundsReport.project_id))
        .subquery()
    )
    # A month and its 下旬 end on the same day: of two reports of that day, the higher figure.
    return (
        select(
            col(FundsReport.project_id), func.max(col(FundsReport.funds_arrived_cum)).label("funds")
        )
        .join(
            last,
            and_(
                last.c.project_id == col(FundsReport.project_id),
                last.c.day == col(FundsReport.period_end),
            ),
        )
        .group_by(col(FundsReport.project_id))
        .subquery()
    )


def _portfolio_from(as_of: dt.date, *columns: Any) -> Any:
    """select(columns) over the projects, each with its funds as of the day (outer join)."""
    funds = _funds_as_of(as_of)
    r = reached(as_of)
    arrived = _amount(and_(r.live, r.signed), func.coalesce(funds.c.funds, 0))
    return (
        select(*columns, arrived)
        .select_from(Project)
        .outerjoin(funds, funds.c.project_id == col(Project.id))
    )


def _portfolio_columns(as_of: dt.date, year: int) -> list[Any]:
    r = reached(as_of)
    kept = not_(r.cancelled)  # cancelled money is not money: out of the target actuals
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    signed = and_(r.live, r.signed)
    fulfilled = and_(signed, r.fulfilled)
    planned = and_(
        r.live,
        col(Project.planned_start_date).is_not(None),
        col(Project.planned_start_date) >= first,
        col(Project.planned_start_date) <= min(as_of, last),
    )
    signed_this_year = and_(r.signed, kept, _signed_within(first, last))
    started_this_year = and_(kept, _started_within(None, as_of), _started_within(first, last))
    sign_amount = func.coalesce(col(Project.contract_amount), col(Project.total_investment))
    manufacturing = col(Project.is_manufacturing).is_(True)
    return [
        _count(signed),
        _count(and_(signed, r.started)),
        _count(and_(r.live, r.started)),
        _count(and_(r.live, r.produced)),
        _count(and_(r.live, r.effective)),
        _count(and_(signed, r.fulfilled)),
        _count(and_(fulfilled, r.started)),
        _count(planned),
        _count(and_(planned, r.started)),
        _amount(signed, sign_amount),
        _amount(signed_this_year, sign_amount),
        _amount(and_(signed_this_year, manufacturing), sign_amount),
        _count(and_(signed_this_year, manufacturing)),
        _amount(started_this_year, col(Project.total_investment)),
    ]


def _portfolio_of(row: Sequence[Any]) -> Portfolio:
    signed, signed_started, started, produced, effective, *rest = (int(v or 0) for v in row)
    fulfilled, fulfilled_started, planned, planned_started, contracted, *amounts = rest
    sign_amount, mfg_amount, mfg_count, start_investment, funds = amounts
    return Portfolio(
        cumulative=formulas.ConversionRates(
            sign_to_start=formulas.Rate(signed_started, signed),
            start_to_production=formulas.Rate(produced, started),
            production_to_effective=formulas.Rate(effective, produced),
        ),
        published=formulas.PublishedRates(
            sign_to_fulfil=formulas.Rate(fulfilled, signed),
            fulfil_to_start=formulas.Rate(fulfilled_started, fulfilled),
            planned_start=formulas.Rate(planned_started, planned),
            funds_arrival=formulas.Rate(funds, contracted),
        ),
        actuals={
            TargetKind.SIGN_AMOUNT: sign_amount,
            TargetKind.NEW_START_INVESTMENT: start_investment,
            TargetKind.MFG_SIGN_AMOUNT: mfg_amount,
            TargetKind.MFG_SIGN_COUNT: mfg_count,
        },
    )


async def portfolio(
    session: AsyncSession, *, as_of: dt.date, year: int, park: str | None
) -> Portfolio:
    """formulas.cumulative_rates, formulas.published_rates(…, year) and
    formulas.target_actuals(…, year) of the projects in scope."""
    stmt = _portfolio_from(as_of, *_portfolio_columns(as_of, year))
    if park is not None:
        stmt = stmt.where(col(Project.park) == park)
    return _portfolio_of((await (await session.connection()).execute(stmt)).one())


async def portfolios_by_park(
    session: AsyncSession, *, as_of: dt.date, year: int
) -> dict[str, Portfolio]:
    """The same for every park at once (the campaign gauges)."""
    stmt = _portfolio_from(as_of, col(Project.park), *_portfolio_columns(as_of, year)).group_by(
        col(Project.park)
    )
    rows = await (await session.connection()).execute(stmt)
    return {row[0]: _portfolio_of(row[1:]) for row in rows}


@dataclass(frozen=True)
class ListTotals:
    """One period's list of one batch: its projects, their listed 总投资, how many of them are not
    调出 (the cohort's denominator) and how many of those reached the stage the list leads to
    (SIGN → started, START → produced, PRODUCE → effective)."""

    period: int
    batch: BatchType
    tally: formulas.BatchTally
    reached: int
    live: int


async def list_totals(
    session: AsyncSession, *, as_of: dt.date, periods: list[int], park: str | None
) -> list[ListTotals]:
    """formulas.batch_tallies and the cohort numerators of every (period, batch) of `periods`."""
    if not periods:
        return []
    r = reached(as_of)
    goal = case(
        (col(Listing.batch) == BatchType.SIGN, case((and_(r.live, r.started), 1), else_=0)),
        (col(Listing.batch) == BatchType.START, case((and_(r.live, r.produced), 1), else_=0)),
        else_=case((and_(r.live, r.effective), 1), else_=0),
    )
    stmt = (
        select(
            col(Listing.period),
            col(Listing.batch),
            func.count(),
            func.sum(col(Listing.listed_total_investment)),
            func.sum(goal),
            _count(r.live),
        )
        .join(Project, col(Project.id) == col(Listing.project_id))
        .where(col(Listing.period).in_(periods))
        .group_by(col(Listing.period), col(Listing.batch))
    )
    if park is not None:
        stmt = stmt.where(col(Project.park) == park)
    return [
        ListTotals(
            period,
            BatchType(batch),
            formulas.BatchTally(count, int(amount or 0)),
            int(hit),
            int(live or 0),
        )
        for period, batch, count, amount, hit, live in await (await session.connection()).execute(
            stmt
        )
    ]


# --- the campaign gauges' counts ------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCounts:
    """The ledger counted by the gauges' labels (a row per label set, never per project)."""

    by_stage: list[tuple[str, Stage, int, int]]  # park, stage, projects, 总投资
    by_chain: list[tuple[str, ChainTag | None, int]]  # park, chain, live projects
    by_category: list[tuple[str, Category | None, int]]  # park, category, live projects
    listings: list[tuple[int, BatchType, str | None, int, int]]  # period, batch, park, n, 总投资


async def campaign_counts(session: AsyncSession) -> CampaignCounts:
    connection = await session.connection()
    park, stage = col(Project.park), col(Project.stage)
    live = stage != Stage.CANCELLED
    by_stage = select(park, stage, func.count(), func.sum(col(Project.total_investment)))
    chain, category = col(Project.chain_tag), col(Project.category)
    by_chain = select(park, chain, func.count()).where(live, chain.is_not(None))
    by_category = select(park, category, func.count()).where(live, category.is_not(None))
    period, batch = col(Listing.period), col(Listing.batch)
    listings = (
        select(period, batch, park, func.count(), func.sum(col(Listing.listed_total_investment)))
        .select_from(Listing)
        .outerjoin(Project, col(Project.id) == col(Listing.project_id))
        .group_by(period, batch, park)
    )
    return CampaignCounts(
        by_stage=[
            (p, s, n, int(t or 0))
            for p, s, n, t in await connection.execute(by_stage.group_by(park, stage))
        ],
        by_chain=[
            (p, c, n) for p, c, n in await connection.execute(by_chain.group_by(park, chain))
        ],
        by_category=[
            (p, c, n) for p, c, n in await connection.execute(by_category.group_by(park, category))
        ],
        listings=[
            (pe, b, p, n, int(t or 0)) for pe, b, p, n, t in await connection.execute(listings)
        ],
    )
