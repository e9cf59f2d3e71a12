"""The registry's campaign gauges for Prometheus: projects, listings, conversion, targets vs 序时进度.

Labels are parks, stages, chain tags, categories, periods, batches, years and target kinds: sets
bounded by the campaign's configuration, never by the number of projects (no project id)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sanpi.events import TargetKind
from sanpi.kit.metrics import SnapshotGauge
from sanpi.registry.indicators import formulas
from sanpi.registry.indicators import repository as ledger
from sanpi.registry.targets.models import Target

log = logging.getLogger("sanpi.registry.metrics")

PROJECTS = SnapshotGauge(
    "sanpi_projects", "Projects by park and lifecycle stage.", ["park", "stage"]
)
PROJECTS_BY_CHAIN = SnapshotGauge(
    "sanpi_projects_by_chain",
    "Live (not cancelled) projects by park and 4+4+N chain.",
    ["park", "chain_tag"],
)
PROJECTS_BY_CATEGORY = SnapshotGauge(
    "sanpi_projects_by_category", "Live projects by park and category.", ["park", "category"]
)
PROJECT_INVESTMENT = SnapshotGauge(
    "sanpi_project_investment_wan",
    "总投资 of the projects, 万元, by park and stage.",
    ["park", "stage"],
)
LISTINGS = SnapshotGauge(
    "sanpi_listings", "Projects on a period's 签约/开工/投产 list.", ["period", "batch", "park"]
)
LISTING_INVESTMENT = SnapshotGauge(
    "sanpi_listing_investment_wan", "总投资 at listing, 万元.", ["period", "batch", "park"]
)
CONVERSION = SnapshotGauge(
    "sanpi_conversion_ratio",
    "Cumulative conversion rate (sign_to_start 签约项目开工率, start_to_production 开工项目投产率, "
    "production_to_effective 投产项目达效率, sign_to_fulfil 签约项目履约率, fulfil_to_start "
    "履约项目开工率, planned_start 计划开工率 of the year so far, funds_arrival 资金到位率) per park; "
    "调出 projects left out.",
    ["kind", "park"],
)
CONVERSION_REACHED = SnapshotGauge(
    "sanpi_conversion_reached",
    "Numerator of sanpi_conversion_ratio (projects that reached; 万元 arrived for funds_arrival).",
    ["kind", "park"],
)
CONVERSION_BASE = SnapshotGauge(
    "sanpi_conversion_base",
    "Denominator of sanpi_conversion_ratio (projects counted; 万元 signed for funds_arrival).",
    ["kind", "park"],
)
TARGET = SnapshotGauge(
    "sanpi_target_value",
    "Annual target (万元, or 个 for MFG_SIGN_COUNT).",
    ["year", "scope", "kind"],
)
TARGET_ACHIEVED = SnapshotGauge(
    "sanpi_target_achieved",
    "What counts toward the target so far (same unit).",
    ["year", "scope", "kind"],
)
TARGET_ATTAINMENT = SnapshotGauge(
    "sanpi_target_attainment_ratio",
    "Achieved / target, 0–1 (and above).",
    ["year", "scope", "kind"],
)
TIME_PROGRESS = SnapshotGauge(
    "sanpi_time_progress_ratio",
    "序时进度: the share of the year elapsed (Asia/Shanghai).",
    ["year"],
)

Values = dict[tuple[str, ...], float]


@dataclass
class CampaignSnapshot:
    """Every gauge's values, computed in one pure pass over the rows."""

    projects: Values = field(default_factory=dict)
    by_chain: Values = field(default_factory=dict)
    by_category: Values = field(default_factory=dict)
    investment: Values = field(default_factory=dict)
    listings: Values = field(default_factory=dict)
    listing_investment: Values = field(default_factory=dict)
    conversion: Values = field(default_factory=dict)
    reached: Values = field(default_factory=dict)
    base: Values = field(default_factory=dict)
    target: Values = field(default_factory=dict)
    achieved: Values = field(default_factory=dict)
    attainment: Values = field(default_factory=dict)
    time_progress: Values = field(default_factory=dict)


def campaign_snapshot(
    counts: ledger.CampaignCounts,
    by_year: Mapping[int, Mapping[str, ledger.Portfolio]],
    goals: Iterable[Target],
    *,
    day: dt.date,
    district: str,
) -> CampaignSnapshot:
    """The gauges' values on `day` (pure: the ledger's counts and each park's portfolio as of
    `day`, for each year a target is set in and `day`'s own, in; numbers out)."""
    snap = CampaignSnapshot()
    for park, stage, n, amount in counts.by_stage:
        add(snap.projects, (park, str(stage)), n)
        add(snap.investment, (park, str(stage)), amount)
    for park, chain, n in counts.by_chain:
        add(snap.by_chain, (park, str(chain)), n)
    for park, category, n in counts.by_category:
        add(snap.by_category, (park, str(category)), n)
    for period, batch, listed_park, n, amount in counts.listings:
        where = (str(period), str(batch), listed_park or "unknown")
        add(snap.listings, where, n)
        add(snap.listing_investment, where, amount)

    for park, mine in by_year[day.year].items():
        rates, published = mine.cumulative, mine.published
        for kind, rate in (
            ("sign_to_start", rates.sign_to_start),
            ("start_to_production", rates.start_to_production),
            ("production_to_effective", rates.production_to_effective),
            ("sign_to_fulfil", published.sign_to_fulfil),
            ("fulfil_to_start", published.fulfil_to_start),
            ("planned_start", published.planned_start),
            ("funds_arrival", published.funds_arrival),
        ):
            snap.reached[(kind, park)] = rate.numerator
            snap.base[(kind, park)] = rate.denominator
            if rate.value is not None:
                snap.conversion[(kind, park)] = rate.value

    by_scope: dict[tuple[int, str], dict[TargetKind, int]] = defaultdict(dict)
    for goal in goals:
        by_scope[(goal.year, goal.scope)][goal.kind] = goal.value
    for (year, scope), values in by_scope.items():
        parks = by_year[year]
        members = (
            parks.values() if scope == district else [p for k, p in parks.items() if k == scope]
        )
        actual = {kind: sum(m.actuals[kind] for m in members) for kind in TargetKind}
        progress = formulas.time_progress(day, year)
        snap.time_progress[(str(year),)] = float(progress)
        for attained in formulas.attainments(values, actual, progress):
            key = (str(year), scope, str(attained.kind))
            snap.target[key] = attained.target
            snap.achieved[key] = attained.actual
            if attained.ratio is not None:
                snap.attainment[key] = float(attained.ratio)
    return snap


def add(values: Values, labels: tuple[str, ...], amount: float) -> None:
    values[labels] = values.get(labels, 0.0) + amount


def publish(snap: CampaignSnapshot) -> None:
    for gauge, values in (
        (PROJECTS, snap.projects),
        (PROJECTS_BY_CHAIN, snap.by_chain),
        (PROJECTS_BY_CATEGORY, snap.by_category),
        (PROJECT_INVESTMENT, snap.investment),
        (LISTINGS, snap.listings),
        (LISTING_INVESTMENT, snap.listing_investment),
        (CONVERSION, snap.conversion),
        (CONVERSION_REACHED, snap.reached),
        (CONVERSION_BASE, snap.base),
        (TARGET, snap.target),
        (TARGET_ACHIEVED, snap.achieved),
        (TARGET_ATTAINMENT, snap.attainment),
        (TIME_PROGRESS, snap.time_progress),
    ):
        gauge.publish(values)
