"""Slip forecasts: when a project will start, go into production and finish its year's investment,
at the pace its milestones and reports show so far (pure: facts in, projections out)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from sanpi.events import MilestoneKind, Stage
from sanpi.kit.messages import Bilingual
from sanpi.milestone.rules import messages as say
from sanpi.milestone.rules.facts import MilestoneFact, ProjectFacts

# The milestones on the way to a start, and to production: a delay on one of them is a delay
# of what they lead to, unless the plan was moved since (they are judged against the plan in
# force, as R05 judges them).
BEFORE_START = (
    MilestoneKind.FULFILLED,
    MilestoneKind.LAND_ACQUIRED,
    MilestoneKind.PLANNING_PERMIT,
    MilestoneKind.CONSTRUCTION_PERMIT,
)
BEFORE_PRODUCTION = (
    MilestoneKind.TOPPED_OUT,
    MilestoneKind.EQUIPMENT_IN,
    MilestoneKind.COMPLETED,
    MilestoneKind.TRIAL_PRODUCTION,
)
NOT_STARTED = frozenset({Stage.SIGNED, Stage.FULFILLING})


class Target(StrEnum):
    STARTED = "STARTED"  # 开工
    IN_PRODUCTION = "IN_PRODUCTION"  # 投产
    ANNUAL_INVESTMENT = "ANNUAL_INVESTMENT"  # the year's planned investment completed


@dataclass(frozen=True)
class Projection:
    """A planned date beside the date the project is heading for, and why."""

    target: Target
    planned: dt.date
    projected: dt.date | None  # None: no basis yet (e.g. nothing invested this year)
    why: say.Said  # the basis, for people: R18's alerts say it in both languages

    @property
    def basis(self) -> str:
        """The basis in Chinese (the forecast endpoint's `basis`)."""
        return self.why.render("zh")

    @property
    def slip_days(self) -> int | None:
        return None if self.projected is None else (self.projected - self.planned).days


def _delay(m: MilestoneFact, as_of: dt.date) -> int:
    """Days a milestone is behind its plan in force: achieved late, or still open past its date."""
    if m.due is None:
        return 0
    if m.actual is not None and m.actual <= as_of:
        return max(0, (m.actual - m.due).days)
    return max(0, (as_of - m.due).days)


def _worst_delay(
    facts: ProjectFacts, kinds: tuple[MilestoneKind, ...], as_of: dt.date
) -> tuple[int, Bilingual]:
    worst, name = 0, Bilingual("", "")
    for m in facts.milestones:
        if m.kind in kinds and (days := _delay(m, as_of)) > worst:
            worst, name = days, Bilingual(m.title, m.title_en)
    return worst, name


def _node(facts: ProjectFacts, kind: MilestoneKind) -> MilestoneFact | None:
    return next((m for m in facts.milestones if m.kind is kind and not m.label), None)


def project(facts: ProjectFacts, stage: Stage, as_of: dt.date) -> list[Projection]:
    """The projections that make sense in `stage` as of a day: the start while not started;
    production and the year's investment while under construction."""
    out: list[Projection] = []
    started = _node(facts, MilestoneKind.STARTED)
    planned_start = started.due if started is not None else facts.planned_start
    if stage in NOT_STARTED and planned_start is not None:
        delay, name = _worst_delay(facts, BEFORE_START, as_of)
        projected = max(planned_start + dt.timedelta(days=delay), as_of)
        basis = (
            say.BEFORE_START_LATE(milestone=name, days=delay)
            if delay
            else say.BEFORE_START_ON_PLAN()
        )
        out.append(Projection(Target.STARTED, planned_start, projected, basis))
    if stage is Stage.UNDER_CONSTRUCTION:
        production = _production(facts, planned_start, as_of)
        if production is not None:
            out.append(production)
        investment = _annual_investment(facts, as_of)
        if investment is not None:
            out.append(investment)
    return out


def _production(
    facts: ProjectFacts, planned_start: dt.date | None, as_of: dt.date
) -> Projection | None:
    node = _node(facts, MilestoneKind.IN_PRODUCTION)
    planned = node.due if node is not None and node.due is not None else facts.planned_production
    if planned is None:
        return None
    candidates: list[tuple[dt.date, say.Said]] = [(planned, say.CONSTRUCTION_ON_PLAN())]
    started = _node(facts, MilestoneKind.STARTED)
    actual_start = started.actual if started is not None else None
    period = _construction_period(started, node, planned_start, planned)
    if actual_start is not None and period is not None:
        # A late start keeps the construction period of the original plan (工期): production
        # follows the start, unless the plan in force already allows for it.
        heading_for = actual_start + period
        if heading_for > planned:
            late = (heading_for - planned).days
            candidates.append((heading_for, say.LATE_START(period=period.days, late=late)))
    delay, name = _worst_delay(facts, BEFORE_PRODUCTION, as_of)
    if delay:
        later = planned + dt.timedelta(days=delay)
        candidates.append((later, say.CONSTRUCTION_LATE(milestone=name, days=delay)))
    projected, basis = max(candidates, key=lambda c: c[0])
    return Projection(Target.IN_PRODUCTION, planned, max(projected, as_of), basis)


def _construction_period(
    started: MilestoneFact | None,
    production: MilestoneFact | None,
    planned_start: dt.date | None,
    planned_production: dt.date,
) -> dt.timedelta | None:
    """From start to production in the original plan (else in the plan in force)."""
    first_start = started.baseline if started is not None else None
    first_production = production.baseline if production is not None else None
    if first_start is not None and first_production is not None:
        return first_production - first_start
    if planned_start is None:
        return None
    return planned_production - planned_start


# The farthest a projection names a day: beyond it the pace says "not within ten years".
HORIZON_DAYS = 3652


def _annual_investment(facts: ProjectFacts, as_of: dt.date) -> Projection | None:
    """The day the year's planned investment is completed at the pace of the year so far (the
    newest report of the year: its year-to-date amount over the days it covers)."""
    plan = facts.plan_for(as_of.year)
    if plan is None or plan.annual <= 0:
        return None
    year_end = dt.date(as_of.year, 12, 31)
    newest = facts.latest_by(as_of)  # the reports are in period order: this year's come last
    if newest is None or newest.period.end.year != as_of.year:
        return None
    started = _node(facts, MilestoneKind.STARTED)
    begin = dt.date(as_of.year, 1, 1)
    if started is not None and started.actual is not None and started.actual > begin:
        begin = started.actual
    days = (newest.period.end - begin).days + 1
    if newest.ytd >= plan.annual:
        return Projection(Target.ANNUAL_INVESTMENT, year_end, newest.period.end, say.ANNUAL_DONE())
    if newest.ytd <= 0 or days <= 0:
        return Projection(Target.ANNUAL_INVESTMENT, year_end, None, say.ANNUAL_NOTHING())
    needed = math.ceil(plan.annual * days / newest.ytd)
    pct = newest.ytd * 100 // plan.annual
    if needed > HORIZON_DAYS:
        # 1 万元 of a 1,000,000 万元 plan in a year: no date worth naming (and one past 9999
        # failed the whole evaluation pass with OverflowError).
        never = say.ANNUAL_NEVER(end=newest.period.end, pct=pct)
        return Projection(Target.ANNUAL_INVESTMENT, year_end, None, never)
    projected = begin + dt.timedelta(days=needed - 1)
    pace = say.ANNUAL_PACE(end=newest.period.end, pct=pct)
    return Projection(Target.ANNUAL_INVESTMENT, year_end, projected, pace)
