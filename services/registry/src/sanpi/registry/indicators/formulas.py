"""Indicator formulas (docs/domain.md#indicators) as pure functions over plain facts: no I/O, no clock.

Choices the formulas make explicit:
- count-based rates (not amount-weighted), as the 两江 app and the city evaluation methods count;
- cumulative = the whole portfolio in scope; cohort = the projects on one period's list (or on the
  lists of one year's periods), followed to the as-of day;
- cancelled projects (终止/清退) stay in the denominators (a signing that was cleared out is a
  conversion that failed: Weinan counts 1/292 terminated), but leave the target actuals (清退 money
  is not money);
- a project 调出 (cancelled with reason WITHDRAWN: taken off the assessment by a dated decision)
  leaves every denominator from its effective date on, and counts as before up to the day before,
  so figures "as of" a past day never change when a project is cancelled or 调出 later;
- a project registered already under construction is in every "started" denominator but not in
  签约项目开工率's, which is about signings only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sanpi.events import BatchType
from sanpi.events.percent import pct_of

# The annual targets' actuals and pace have one definition, shared with the milestone service's
# R15: sanpi.events.targets.
from sanpi.events.targets import Attainment as Attainment
from sanpi.events.targets import Pace as Pace
from sanpi.events.targets import attainments as attainments
from sanpi.events.targets import sign_amount
from sanpi.events.targets import target_actuals as target_actuals

# 序时进度 has one definition, shared with the milestone service's R04: sanpi.events.xun.
from sanpi.events.xun import time_progress as time_progress


@dataclass(frozen=True)
class ProjectFacts:
    """What the formulas need of a project, as of the day asked."""

    project_id: str
    signed: bool  # entered the ledger as a signing (not registered directly under construction)
    signed_on: dt.date | None
    started_on: dt.date | None  # None: not started as of the day
    fulfilled: bool  # 履约 (or a later stage) as of the day
    started: bool
    produced: bool
    effective: bool
    cancelled: bool
    withdrawn: bool  # 调出 as of the day: out of every denominator
    is_manufacturing: bool
    total_investment: int
    contract_amount: int | None
    planned_start_date: dt.date | None = None
    funds_arrived: int = 0  # 到位资金 of the latest report period ended by the day, 万元


@dataclass(frozen=True)
class ListingFacts:
    project_id: str
    period: int
    batch: BatchType
    amount: int  # listed 总投资, 万元


def facts_as_of(
    *,
    project_id: str,
    signed: bool,
    signed_on: dt.date | None,
    fulfilled_date: dt.date | None = None,
    started_date: dt.date | None,
    production_date: dt.date | None,
    effective_date: dt.date | None,
    cancelled_on: dt.date | None,
    withdrawn: bool = False,
    is_manufacturing: bool,
    total_investment: int,
    contract_amount: int | None,
    planned_start_date: dt.date | None = None,
    funds: Mapping[dt.date, int] | None = None,
    as_of: dt.date,
) -> ProjectFacts:
    """A project's facts on `as_of`: a stage counts once the day it was reached has come; a later
    stage implies the earlier ones (达效 ⇒ 投产 ⇒ 开工 ⇒ 履约). `withdrawn`: the cancellation on
    `cancelled_on` was a 调出; `funds`: 到位资金 by the last day of each report period (of a month
    and its 下旬, which end on the same day, the higher figure)."""

    def by(day: dt.date | None) -> bool:
        return day is not None and day <= as_of

    effective = by(effective_date)
    produced = effective or by(production_date)
    started = produced or by(started_date)
    return ProjectFacts(
        project_id=project_id,
        signed=signed and by(signed_on),
        signed_on=signed_on,
        started_on=started_date if by(started_date) else None,
        fulfilled=started or by(fulfilled_date),
        started=started,
        produced=produced,
        effective=effective,
        cancelled=by(cancelled_on),
        withdrawn=withdrawn and by(cancelled_on),
        is_manufacturing=is_manufacturing,
        total_investment=total_investment,
        contract_amount=contract_amount,
        planned_start_date=planned_start_date,
        funds_arrived=_latest(funds or {}, as_of),
    )


def _latest(by_day: Mapping[dt.date, int], as_of: dt.date) -> int:
    """The figure of the latest day on or before `as_of` (0 when none)."""
    days = [day for day in by_day if day <= as_of]
    return by_day[max(days)] if days else 0


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The ratio 0–1, None when there is nothing to divide by."""
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def pct(self) -> float | None:
        """Percent with one decimal rounded half up, as bulletins print it (79.5; 5/16 → 31.3)."""
        return pct_of(self.numerator, self.denominator)


@dataclass(frozen=True)
class ConversionRates:
    sign_to_start: Rate  # 签约项目开工率
    start_to_production: Rate  # 开工项目投产率
    production_to_effective: Rate  # 投产项目达效率


def _rate(members: Iterable[ProjectFacts], reached: str) -> Rate:
    group = list(members)
    return Rate(sum(1 for p in group if getattr(p, reached)), len(group))


def cumulative_rates(projects: Sequence[ProjectFacts]) -> ConversionRates:
    """Over the whole portfolio (the 两江 way): started/signed, produced/started, effective/produced."""
    projects = [p for p in projects if not p.withdrawn]
    return ConversionRates(
        sign_to_start=_rate((p for p in projects if p.signed), "started"),
        start_to_production=_rate((p for p in projects if p.started), "produced"),
        production_to_effective=_rate((p for p in projects if p.produced), "effective"),
    )


def cohort_rates(
    projects: Mapping[str, ProjectFacts], listings: Iterable[ListingFacts]
) -> ConversionRates:
    """Of the projects on the given SIGN lists, the share started; of those on the START lists, the
    share produced; of those on the PRODUCE lists, the share effective."""
    by_batch: dict[BatchType, list[ProjectFacts]] = {b: [] for b in BatchType}
    for listing in listings:
        facts = projects.get(listing.project_id)
        if facts is not None and not facts.withdrawn:
            by_batch[listing.batch].append(facts)
    return ConversionRates(
        sign_to_start=_rate(by_batch[BatchType.SIGN], "started"),
        start_to_production=_rate(by_batch[BatchType.START], "produced"),
        production_to_effective=_rate(by_batch[BatchType.PRODUCE], "effective"),
    )


@dataclass(frozen=True)
class PublishedRates:
    """The rates of the city evaluation methods and the provincial "四率" beyond the chain above."""

    sign_to_fulfil: Rate  # 签约项目履约率: signings that reached 履约 (or later)
    fulfil_to_start: Rate  # 履约项目开工率: of the signings in 履约 or later, those started
    planned_start: Rate  # 计划开工率: of the starts planned from 1 Jan to as_of, those started
    funds_arrival: Rate  # 资金到位率: Σ 到位资金 / Σ 签约额 (else 总投资) of the signings, 万元


def published_rates(
    projects: Iterable[ProjectFacts], *, year: int, as_of: dt.date
) -> PublishedRates:
    """Over the portfolio as of `as_of`, 调出 left out; the planned starts are those whose planned
    start day falls in `year` on or before `as_of` (应开工), started by `as_of` or not (已开工);
    the funds are each signing's latest reported 到位资金 against its 签约额 (else 总投资)."""
    live = [p for p in projects if not p.withdrawn]
    signed = [p for p in live if p.signed]
    first, last = dt.date(year, 1, 1), min(as_of, dt.date(year, 12, 31))
    due = [
        p
        for p in live
        if p.planned_start_date is not None and first <= p.planned_start_date <= last
    ]
    return PublishedRates(
        sign_to_fulfil=_rate(signed, "fulfilled"),
        fulfil_to_start=_rate((p for p in signed if p.fulfilled), "started"),
        planned_start=_rate(due, "started"),
        funds_arrival=Rate(
            sum(p.funds_arrived for p in signed),
            sum(_sign_amount(p) for p in signed),
        ),
    )


def _sign_amount(p: ProjectFacts) -> int:
    return sign_amount(p)


@dataclass(frozen=True)
class BatchTally:
    count: int
    amount: int  # 万元

    @property
    def amount_yi(self) -> float:
        return round(self.amount / 10_000, 2)


def batch_tallies(listings: Iterable[ListingFacts]) -> dict[BatchType, BatchTally]:
    """Count and 万元 of each batch (every batch present, zero when empty)."""
    counts = {b: 0 for b in BatchType}
    amounts = {b: 0 for b in BatchType}
    for listing in listings:
        counts[listing.batch] += 1
        amounts[listing.batch] += listing.amount
    return {b: BatchTally(counts[b], amounts[b]) for b in BatchType}
