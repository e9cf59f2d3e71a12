"""Indicators: reads the ledger in scope and hands it to the pure formulas."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, Stage
from sanpi.kit import CAMPAIGN_TZ
from sanpi.registry.indicators import formulas
from sanpi.registry.indicators.schemas import (
    AttainmentPublic,
    BatchPublic,
    Indicators,
    PeriodIndicators,
    RatesPublic,
    batches_public,
)
from sanpi.registry.listings import repository as listings
from sanpi.registry.periods import repository as periods
from sanpi.registry.projects import repository as projects
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.repository import ProjectFilter
from sanpi.registry.projects.schemas import ProjectSort
from sanpi.registry.targets import repository as targets


def facts(project: Project, as_of: dt.date) -> formulas.ProjectFacts:
    """A row's facts on `as_of`; an undeclared signing (or direct start) day is the registration day."""
    registered = project.created_at.astimezone(CAMPAIGN_TZ).date()
    signed = project.initial_stage is Stage.SIGNED
    started_date = project.started_date
    if started_date is None and project.initial_stage is Stage.UNDER_CONSTRUCTION:
        started_date = registered
    return formulas.facts_as_of(
        project_id=project.id,
        signed=signed,
        signed_on=(project.signed_date or registered) if signed else project.signed_date,
        started_date=started_date,
        production_date=project.production_date,
        effective_date=project.effective_date,
        cancelled_on=project.cancelled_on,
        is_manufacturing=project.is_manufacturing,
        total_investment=project.total_investment,
        contract_amount=project.contract_amount,
        as_of=as_of,
    )


def _total(tallies: dict[BatchType, formulas.BatchTally]) -> BatchPublic:
    return BatchPublic.of(
        formulas.BatchTally(
            sum(t.count for t in tallies.values()), sum(t.amount for t in tallies.values())
        )
    )


async def compute(
    session: AsyncSession, *, year: int, as_of: dt.date, park: str | None, district: str
) -> Indicators:
    rows = await projects.all_matching(
        session, filters=ProjectFilter(park=park), sort=ProjectSort.CREATED
    )
    portfolio = {p.id: facts(p, as_of) for p in rows}
    all_listings = [
        formulas.ListingFacts(x.project_id, x.period, x.batch, x.listed_total_investment)
        for x in await listings.all_listings(session)
        if x.project_id in portfolio
    ]
    year_periods = [p for p in await periods.all_periods(session) if p.event_date.year == year]
    per_period: list[PeriodIndicators] = []
    year_listings: list[formulas.ListingFacts] = []
    for period in year_periods:
        listed = [x for x in all_listings if x.period == period.number]
        year_listings += listed
        tallies = formulas.batch_tallies(listed)
        per_period.append(
            PeriodIndicators(
                period=period.number,
                event_date=period.event_date,
                quarter=period.quarter,
                batches=batches_public(tallies),
                total=_total(tallies),
                cohort=RatesPublic.of(formulas.cohort_rates(portfolio, listed)),
            )
        )
    scope = park or district
    target_values = {t.kind: t.value for t in await targets.find(session, year=year, scope=scope)}
    progress = formulas.time_progress(as_of, year)
    attained = formulas.attainments(
        target_values, formulas.target_actuals(portfolio.values(), year), progress
    )
    return Indicators(
        scope=scope,
        park=park,
        year=year,
        as_of=as_of,
        time_progress_pct=round(progress * 100, 1),
        periods=per_period,
        year_batches=batches_public(formulas.batch_tallies(year_listings)),
        cumulative=RatesPublic.of(formulas.cumulative_rates(list(portfolio.values()))),
        cohort=RatesPublic.of(formulas.cohort_rates(portfolio, year_listings)),
        targets=[AttainmentPublic.of(a) for a in attained],
    )
