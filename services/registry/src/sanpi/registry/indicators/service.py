"""Indicators: the ledger's aggregates in scope (indicators.repository) shaped into the answer."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, ProgressReported
from sanpi.events.percent import half_up
from sanpi.events.xun import parse_period
from sanpi.kit import UnitOfWork
from sanpi.registry.indicators import formulas
from sanpi.registry.indicators import repository as ledger
from sanpi.registry.indicators.models import FundsReport
from sanpi.registry.indicators.schemas import (
    AttainmentPublic,
    BatchPublic,
    Indicators,
    PeriodIndicators,
    PublishedRatesPublic,
    RatesPublic,
    batches_public,
)
from sanpi.registry.periods import repository as periods
from sanpi.registry.targets import repository as targets


def batch_total(tallies: dict[BatchType, formulas.BatchTally]) -> BatchPublic:
    """The lists of every batch together."""
    return BatchPublic.of(
        formulas.BatchTally(
            sum(t.count for t in tallies.values()), sum(t.amount for t in tallies.values())
        )
    )


async def compute(
    session: AsyncSession, *, year: int, as_of: dt.date, park: str | None, district: str
) -> Indicators:
    # The periods of the year held by `as_of`: a list announced later was not on record that
    # day (a bulletin of 2023-03-X2 counted the 8th-10th lists of May to October).
    year_periods = [
        p
        for p in await periods.all_periods(session)
        if p.event_date.year == year and p.event_date <= as_of
    ]
    lists = await ledger.list_totals(
        session, as_of=as_of, periods=[p.number for p in year_periods], park=park
    )
    whole = await ledger.portfolio(session, as_of=as_of, year=year, park=park)
    per_period: list[PeriodIndicators] = []
    for period in year_periods:
        mine = [x for x in lists if x.period == period.number]
        tallies = _tallies(mine)
        per_period.append(
            PeriodIndicators(
                period=period.number,
                event_date=period.event_date,
                quarter=period.quarter,
                batches=batches_public(tallies),
                total=batch_total(tallies),
                cohort=RatesPublic.of(_cohort(mine)),
            )
        )
    scope = park or district
    target_values = {t.kind: t.value for t in await targets.find(session, year=year, scope=scope)}
    progress = formulas.time_progress(as_of, year)
    attained = formulas.attainments(target_values, whole.actuals, progress)
    return Indicators(
        scope=scope,
        park=park,
        year=year,
        as_of=as_of,
        time_progress_pct=half_up(progress * 100),
        periods=per_period,
        year_batches=batches_public(_tallies(lists)),
        cumulative=RatesPublic.of(whole.cumulative),
        published=PublishedRatesPublic.of(whole.published),
        cohort=RatesPublic.of(_cohort(lists)),
        targets=[AttainmentPublic.of(a) for a in attained],
    )


async def apply_funds(uow: UnitOfWork, data: ProgressReported) -> None:
    """Keeps the funds projection: a report's 到位资金 for its period (a correction, or the same
    report again, replaces it; a report without the figure leaves what is known)."""
    if data.funds_arrived_cum is None:
        return
    row = await uow.session.get(FundsReport, (data.project_id, data.period_key))
    if row is None:
        row = FundsReport(
            project_id=data.project_id,
            period_key=data.period_key,
            period_end=parse_period(data.period_key).end,
            funds_arrived_cum=data.funds_arrived_cum,
        )
    row.funds_arrived_cum = data.funds_arrived_cum
    uow.session.add(row)


def _tallies(lists: list[ledger.ListTotals]) -> dict[BatchType, formulas.BatchTally]:
    """formulas.batch_tallies, added up from the lists' totals."""
    counts = {b: 0 for b in BatchType}
    amounts = {b: 0 for b in BatchType}
    for x in lists:
        counts[x.batch] += x.tally.count
        amounts[x.batch] += x.tally.amount
    return {b: formulas.BatchTally(counts[b], amounts[b]) for b in BatchType}


def _cohort(lists: list[ledger.ListTotals]) -> formulas.ConversionRates:
    """formulas.cohort_rates, added up from the lists' totals (a project is on one list of each
    batch at most, so the lists' counts add up to the projects'; 调出 ones are not counted)."""
    reached = {b: 0 for b in BatchType}
    live = {b: 0 for b in BatchType}
    for x in lists:
        reached[x.batch] += x.reached
        live[x.batch] += x.live
    return formulas.ConversionRates(
        sign_to_start=formulas.Rate(reached[BatchType.SIGN], live[BatchType.SIGN]),
        start_to_production=formulas.Rate(reached[BatchType.START], live[BatchType.START]),
        production_to_effective=formulas.Rate(reached[BatchType.PRODUCE], live[BatchType.PRODUCE]),
    )
