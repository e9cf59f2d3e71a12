"""What the rules know about one project (plain frozen data, built by the service from its tables)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from sanpi.events import MilestoneKind, ReportPeriodKind, Stage
from sanpi.events.vocabulary import MILESTONE_KIND_EN, MILESTONE_KIND_ZH
from sanpi.events.xun import ReportPeriod

# A report's place in time: by the day its period ends, a 旬 before the month it closes.
_IN_PERIOD_ORDER = attrgetter("period.in_order")


# Named tuples, not frozen dataclasses like the plan and the project's facts: a full pass at
# province scale builds ~80k stage entries and ~100k milestones, and a frozen dataclass's
# __init__ (a setattr per field through object) cost three times a tuple's.
class StageFact(NamedTuple):
    """One entry of the stage history: from `effective_date` on, the project is `stage`."""

    stage: Stage
    effective_date: dt.date


class MilestoneFact(NamedTuple):
    kind: MilestoneKind
    label: str = ""
    baseline: dt.date | None = None
    forecast: dt.date | None = None
    actual: dt.date | None = None

    @property
    def due(self) -> dt.date | None:
        """The current plan: the latest forecast, else the baseline."""
        return self.forecast or self.baseline

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.label}" if self.label else str(self.kind)

    @property
    def title(self) -> str:
        """Its name in a message: 竣工, 开工（二期）, a custom milestone by its label."""
        if self.kind is MilestoneKind.CUSTOM and self.label:
            return self.label
        kind = MILESTONE_KIND_ZH.get(self.kind, str(self.kind))
        return f"{kind}（{self.label}）" if self.label else kind

    @property
    def title_en(self) -> str:
        """The same in English: Construction completed, Construction started (二期)."""
        if self.kind is MilestoneKind.CUSTOM and self.label:
            return self.label
        kind = MILESTONE_KIND_EN.get(self.kind, str(self.kind))
        return f"{kind} ({self.label})" if self.label else kind

    def achieved_by(self, day: dt.date) -> bool:
        return self.actual is not None and self.actual <= day


# --- the rows the areas hand the rules (rules/areas.py) --------------------------------------------


class PlanRow(NamedTuple):
    """The columns of an investment plan the rules read."""

    project_id: str
    year: int
    annual_plan: int
    monthly: list[int] | None
    xun: list[int] | None


# The columns of a report the rules read (docs/domain.md#alert-rules), in this order, as the
# driver returns them: submitted_on is ISO text on SQLite (a date on PostgreSQL),
# lowered_by_correction 0/1 (a bool), then funds_arrived_cum. Among the recent reports, a row
# without a period_key holds a project's older reports' highest cumulative and physical % (the
# other columns NULL).
ReportRow = tuple[str, str | None, int, Any, float | None, Any, Any, int | None]


class ReportRows(NamedTuple):
    """Report rows as the driver returned them, and how to read their submitted_on as a date."""

    rows: Sequence[ReportRow]
    day: Callable[[Any], dt.date]


class Earlier(NamedTuple):
    """What the rules keep of a project's reports older than the ones loaded."""

    highest_cum: int | None
    highest_pct: float | None


class ReportsTruncated(Exception):
    """A rule needed a report older than the facts hold: evaluate again with every report."""


class ReportFact(NamedTuple):
    """One report as the rules read it. A named tuple, not a frozen dataclass like the other
    facts: a full pass builds ~1.8M of them at province scale, and a tuple costs a third."""

    period: ReportPeriod
    cum: int
    ytd: int
    physical_pct: float | None
    submitted_on: dt.date
    lowered_by_correction: bool = False
    # 到位资金, cumulative (R03); None when the report did not give it.
    funds_arrived: int | None = None

    @property
    def kind(self) -> ReportPeriodKind:
        return self.period.kind


class PhotoFact(NamedTuple):
    """A photo a milestone cites that does not show the milestone's date (a photo finding)."""

    milestone_id: str
    kind: str
    label: str
    milestone_date: dt.date
    code: str  # PHOTO_DATE_MISMATCH or PHOTO_UNDATED
    captured_on: dt.date | None

    @property
    def milestone(self) -> str:
        return f"{self.kind}:{self.label}" if self.label else self.kind


class IssueFact(NamedTuple):
    """An assigned issue (交办事项) open on the day evaluated, with its 13710 deadlines (R12)."""

    issue_id: str
    category: str
    unit: str
    raised_on: dt.date
    feedback_due_on: dt.date
    feedback_red_on: dt.date
    due_on: dt.date
    red_on: dt.date
    first_feedback_on: dt.date | None


@dataclass(frozen=True)
class PlanFact:
    year: int
    annual: int
    monthly: tuple[int, ...] | None = None
    xun: tuple[int, ...] | None = None

    def split(self, kind: ReportPeriodKind) -> tuple[int, ...] | None:
        """The plan per 旬 (36) or per month (12). Without a 旬 split, each month's amount is
        spread evenly over its three 旬 ("量化到旬" from a monthly plan)."""
        if kind is ReportPeriodKind.MONTH:
            return self.monthly
        if self.xun is not None or self.monthly is None:
            return self.xun
        return tuple(
            amount // 3 + (amount % 3 if third == 2 else 0)
            for amount in self.monthly
            for third in range(3)
        )


@dataclass(frozen=True)
class ProjectFacts:
    project_id: str
    name: str
    park: str
    total_investment: int
    known_from: dt.date = field(default=dt.date(1900, 1, 1))
    # 签约额 (R03 judges funds arrived against it); None when the registry has none.
    contract_amount: int | None = None
    signed_date: dt.date | None = None
    planned_start: dt.date | None = None
    planned_production: dt.date | None = None
    expected_resume_date: dt.date | None = None
    # Oldest first; the first entry is the stage the project was registered in.
    stages: tuple[StageFact, ...] = ()
    milestones: tuple[MilestoneFact, ...] = ()
    reports: tuple[ReportFact, ...] = ()
    # At least the plan of the year evaluated (the rules read no other; the service loads that).
    plans: tuple[PlanFact, ...] = ()
    # None: `reports` is every report of the project. A day: `reports` holds every report of a
    # period ending on or after it, and older ones were left out (a full pass at province scale
    # read ~90 reports a project, of which the rules look at the last few): a rule that needs
    # an older one raises ReportsTruncated through `needs_reports_from`.
    reports_from: dt.date | None = None
    # The highest physical progress among the reports left out, as R16 carries it forward
    # (not below 0); None when none of them has one.
    earlier_highest_pct: float | None = None
    # The highest cumulative investment among them (R16 compares the newest with the total).
    earlier_highest_cum: int | None = None
    # Photo findings of milestones dated within R16's window at least (the service loads those).
    photos: tuple[PhotoFact, ...] = ()
    # The assigned issues raised by the day evaluated and not closed by it (the service loads those).
    issues: tuple[IssueFact, ...] = ()

    def __post_init__(self) -> None:
        # In period order once, here: five rules read the reports in that order per project.
        ordered = tuple(sorted(self.reports, key=_IN_PERIOD_ORDER))
        object.__setattr__(self, "reports", ordered)

    def stage_on(self, day: dt.date) -> tuple[Stage, dt.date] | None:
        """The stage on `day` and the day it began; None before the project is known."""
        if day < self.known_from or not self.stages:
            return None
        current: StageFact | None = None
        for fact in self.stages:
            if fact.effective_date <= day or current is None:
                current = fact
        assert current is not None
        return current.stage, current.effective_date

    def plan_for(self, year: int) -> PlanFact | None:
        for plan in self.plans:  # a loop, not next() over a generator: three rules ask
            if plan.year == year:
                return plan
        return None

    def needs_reports_from(self, day: dt.date) -> None:
        """Raises ReportsTruncated unless every report of a period ending on or after `day` is
        here (`dt.date.min`: every report)."""
        if self.reports_from is not None and day < self.reports_from:
            raise ReportsTruncated(self.project_id)

    def has_report(self, period: ReportPeriod) -> bool:
        """Whether `period` was reported. Scans from the newest report: the periods asked about
        are recent (hashing every report's period into a set was a tenth of a full pass)."""
        self.needs_reports_from(period.end)
        for report in reversed(self.reports):
            if report.period.end < period.end:
                return False
            if report.period == period:
                return True
        return False

    def funds_arrived_by(self, day: dt.date) -> ReportFact | None:
        """The latest report of a period ended by `day` that gives the funds arrived (R03);
        None when no report of the project gives them."""
        for report in reversed(self.reports):
            if report.period.end <= day and report.funds_arrived is not None:
                return report
        # The older reports left out may give them (their aggregate row carries no funds).
        if self.earlier_highest_cum is not None or self.earlier_highest_pct is not None:
            self.needs_reports_from(dt.date.min)
        return None

    def latest_by(self, day: dt.date) -> ReportFact | None:
        """The last report of a period ended by `day` (reports_by(day)[-1]), found from the
        newest: the rules ask about recent days, and listing every report up to one was a
        tenth of a full pass's rules."""
        for report in reversed(self.reports):
            if report.period.end <= day:
                return report
        return None

    def reports_by(self, day: dt.date) -> list[ReportFact]:
        """Reports of periods that ended on or before `day`, in period order."""
        return [r for r in self.reports if r.period.end <= day]
