"""The alert rules of docs/domain.md#alert-rules as pure functions: facts and a date in, desired alerts out."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from sanpi.events import AlertRule, MilestoneKind, ReportPeriodKind, Severity, Stage
from sanpi.events.percent import half_up, pct
from sanpi.events.vocabulary import SEVERITY_ORDER, STAGE_OF_MILESTONE
from sanpi.events.vocabulary import STAGE_ORDER as ORDER
from sanpi.events.xun import (
    ReportPeriod,
    add_months,
    last_completed,
    month_end,
    period_of,
    time_progress,
)
from sanpi.kit.messages import Bilingual
from sanpi.milestone.rules import forecast
from sanpi.milestone.rules import messages as say
from sanpi.milestone.rules.facts import MilestoneFact, PhotoFact, ProjectFacts, ReportFact
from sanpi.milestone.settings import MilestoneSettings, RuleSettings

# Every project of a full pass asks about the same few periods around the evaluation day: build
# each once (~0.1 of a province-scale pass's rules went to rebuilding them and their `end`).
# ReportPeriod is frozen, so sharing one is safe. A stage's start differs by project: not cached.
_last_completed = functools.lru_cache(maxsize=64)(last_completed)
_period_of = functools.lru_cache(maxsize=64)(period_of)
_previous = functools.lru_cache(maxsize=256)(ReportPeriod.previous)
_month_end = functools.lru_cache(maxsize=64)(month_end)  # the pacing's, of the day evaluated

KIND_LABEL = {
    ReportPeriodKind.XUN: say.XUN_OR_MONTH_TITLE["XUN"],
    ReportPeriodKind.MONTH: say.XUN_OR_MONTH_TITLE["MONTH"],
}
# Lateness of these nodes has a rule of its own (R02 not started, R09 production date passed,
# R10 not 达效): R05 leaves them alone so that one delay is one alert, not two.
OWN_RULE_NODES = frozenset(
    {MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION, MilestoneKind.EFFECTIVE}
)

# The phase a node belongs to. R05 judges a node only while the project is in its phase, so a
# project that has not started is not also "overdue" on every construction node after the start.
PHASE: dict[MilestoneKind, frozenset[Stage]] = {
    **dict.fromkeys(
        (
            MilestoneKind.FULFILLED,
            MilestoneKind.LAND_ACQUIRED,
            MilestoneKind.PLANNING_PERMIT,
            MilestoneKind.CONSTRUCTION_PERMIT,
        ),
        frozenset({Stage.SIGNED, Stage.FULFILLING}),
    ),
    **dict.fromkeys(
        (
            MilestoneKind.TOPPED_OUT,
            MilestoneKind.EQUIPMENT_IN,
            MilestoneKind.COMPLETED,
            MilestoneKind.TRIAL_PRODUCTION,
        ),
        frozenset({Stage.UNDER_CONSTRUCTION}),
    ),
}

# Nodes of a phase are settled once the stage that ends the phase is reached, recorded or not:
# a project in production has been completed (竣工) even if nobody posted COMPLETED.
SETTLED_BY: dict[MilestoneKind, Stage] = {
    MilestoneKind.LAND_ACQUIRED: Stage.UNDER_CONSTRUCTION,
    MilestoneKind.PLANNING_PERMIT: Stage.UNDER_CONSTRUCTION,
    MilestoneKind.CONSTRUCTION_PERMIT: Stage.UNDER_CONSTRUCTION,
    MilestoneKind.TOPPED_OUT: Stage.IN_PRODUCTION,
    MilestoneKind.EQUIPMENT_IN: Stage.IN_PRODUCTION,
    MilestoneKind.COMPLETED: Stage.IN_PRODUCTION,
    MilestoneKind.TRIAL_PRODUCTION: Stage.IN_PRODUCTION,
}
# While SUSPENDED the clocks stop: these rules stay silent (R11 watches the suspension itself).
MUTED_WHILE_SUSPENDED = frozenset(
    {AlertRule.R02, AlertRule.R04, AlertRule.R05, AlertRule.R06, AlertRule.R07, AlertRule.R09}
    | {AlertRule.R17}
)


@dataclass(frozen=True)
class DesiredAlert:
    """An alert that should be firing now, as the rules see it."""

    key: str
    rule: AlertRule
    severity: Severity
    title: str  # Chinese, as are the message's words; the English beside them (title_en…)
    message: str = ""
    metric_value: float | None = None
    threshold: float | None = None
    # A scoped rule's alert (R14, R15, rules.scoped) is about a park or the district, not a
    # project: its park (None for the district), and the periods of a period cohort.
    scope: str = "project"
    park: str | None = None
    periods: tuple[int, ...] = ()
    # The same words in English (messages.texts fills both from one template): an English
    # subscription reads these.
    title_en: str = ""
    message_en: str = ""


def named_period(p: ReportPeriod) -> Bilingual:
    """A report period as each language names it: 2023年3月中旬, mid March 2023."""
    return Bilingual(p.zh, p.en)


@dataclass(frozen=True)
class Deadlines:
    xun_grace_days: int = 2
    month_due_day: int = 5

    @staticmethod
    def of(settings: MilestoneSettings) -> Deadlines:
        return Deadlines(settings.xun_report_grace_days, settings.month_report_due_day)

    def deadline(self, period: ReportPeriod) -> dt.date:
        return period.deadline(xun_grace_days=self.xun_grace_days, month_due_day=self.month_due_day)


@dataclass(frozen=True)
class Context:
    """One project on one day, with the thresholds in force."""

    facts: ProjectFacts
    as_of: dt.date
    stage: Stage
    since: dt.date
    rules: RuleSettings
    deadlines: Deadlines
    # The rules that stayed silent because an input they judge is missing (a contract amount,
    # a funds figure, a signing or start date), to be counted in the evaluation's summary.
    silent: list[AlertRule] = field(default_factory=list)

    def key(self, rule: AlertRule, *parts: str) -> str:
        return ":".join([str(rule), self.facts.project_id, *parts])

    def missing(self, rule: AlertRule) -> list[DesiredAlert]:
        """Notes that `rule` cannot judge this project (an input is missing): no alert."""
        self.silent.append(rule)
        return []


def grade(value: float, steps: Iterable[tuple[float, Severity]]) -> Severity | None:
    """The most severe colour whose threshold `value` reaches (thresholds are inclusive)."""
    reached = [sev for threshold, sev in steps if value >= threshold]
    return max(reached, key=SEVERITY_ORDER.__getitem__) if reached else None


def evaluate_project(
    facts: ProjectFacts,
    as_of: dt.date,
    rules: RuleSettings,
    deadlines: Deadlines,
    silent: Counter[AlertRule] | None = None,
) -> list[DesiredAlert]:
    """Every alert that should fire for this project as of `as_of` (none once CANCELLED).
    `silent` counts the rules that could not judge it for a missing input."""
    state = facts.stage_on(as_of)
    if state is None or state[0] is Stage.CANCELLED:
        return []
    ctx = Context(facts, as_of, state[0], state[1], rules, deadlines)
    alerts: list[DesiredAlert] = []
    for check in _WHILE_SUSPENDED if ctx.stage is Stage.SUSPENDED else _CHECKS:
        alerts.extend(check(ctx))
    if silent is not None and ctx.silent:
        silent.update(ctx.silent)
    return alerts


# --- R01 signed, no 履约 evidence ---------------------------------------------------------------

# What counts as 履约 (the investor's concrete steps: company, land, capital): the FULFILLED
# milestone (it moves the stage to FULFILLING), or a node of the 履约 phase achieved (land, the
# planning or construction permit), which proves the step even if nobody recorded FULFILLED.
FULFILMENT_EVIDENCE = frozenset(
    {
        MilestoneKind.FULFILLED,
        MilestoneKind.LAND_ACQUIRED,
        MilestoneKind.PLANNING_PERMIT,
        MilestoneKind.CONSTRUCTION_PERMIT,
    }
)


def r01_no_fulfilment(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is not Stage.SIGNED:
        return []
    facts, day, cfg = ctx.facts, ctx.as_of, ctx.rules.r01
    if facts.signed_date is None:
        return ctx.missing(AlertRule.R01)
    if any(m.kind in FULFILMENT_EVIDENCE and m.achieved_by(day) for m in facts.milestones):
        return []
    days = (day - facts.signed_date).days
    severity = grade(days, [(cfg.yellow_days, Severity.YELLOW), (cfg.red_days, Severity.RED)])
    if severity is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R01),
            AlertRule.R01,
            severity,
            **say.texts(
                say.R01_TITLE(name=facts.name), say.R01(signed=facts.signed_date, days=days)
            ),
            metric_value=float(days),
            threshold=float(cfg.red_days if severity is Severity.RED else cfg.yellow_days),
        )
    ]


# --- R02 signed but not started -----------------------------------------------------------------


def r02_signed_not_started(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage not in (Stage.SIGNED, Stage.FULFILLING):
        return []
    cfg, facts, day = ctx.rules.r02, ctx.facts, ctx.as_of
    signed = facts.signed_date or facts.known_from
    days_signed = (day - signed).days
    severity: Severity | None = None
    message = say.R02(days_signed=days_signed)
    if days_signed >= cfg.red_days_since_signing:
        severity = Severity.RED
    start = facts.planned_start
    if start is not None:
        late = (day - start).days
        yellow_from = month_end(add_months(start, cfg.yellow_months_after_start_month))
        if day >= add_months(start, cfg.red_months_after_planned_start):
            severity = Severity.RED
        elif day > yellow_from and severity is None:
            severity = Severity.YELLOW
        message = say.R02_PLANNED(start=start, late=late, days_signed=days_signed)
    if severity is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R02),
            AlertRule.R02,
            severity,
            **say.texts(say.R02_TITLE(name=facts.name), message),
            metric_value=float(days_signed),
            threshold=float(cfg.red_days_since_signing),
        )
    ]


def r02_red_since(facts: ProjectFacts, rules: RuleSettings) -> dt.date:
    """The first day R02 is red for a project that has not started (R13 counts from it)."""
    cfg = rules.r02
    signed = facts.signed_date or facts.known_from
    since = signed + dt.timedelta(days=cfg.red_days_since_signing)
    if facts.planned_start is not None:
        since = min(since, add_months(facts.planned_start, cfg.red_months_after_planned_start))
    return since


# --- R03 funds arrival low ----------------------------------------------------------------------


def r03_funds_low(ctx: Context) -> list[DesiredAlert]:
    facts, day, cfg = ctx.facts, ctx.as_of, ctx.rules.r03
    amount, signed = facts.contract_amount, facts.signed_date
    if not amount or signed is None:
        return ctx.missing(AlertRule.R03)
    if day < add_months(signed, cfg.yellow_months):
        return []
    found = _funds_share(facts, day, amount)
    if found is None:
        return ctx.missing(AlertRule.R03)
    report, share = found
    if share >= cfg.min_share:
        return []
    red = day >= add_months(signed, cfg.red_months)
    months = cfg.red_months if red else cfg.yellow_months
    return [
        DesiredAlert(
            ctx.key(AlertRule.R03),
            AlertRule.R03,
            Severity.RED if red else Severity.YELLOW,
            **say.texts(
                say.R03_TITLE(name=facts.name),
                say.R03(
                    signed=signed,
                    period=named_period(report.period),
                    funds=report.funds_arrived,
                    amount=amount,
                    share=pct(share),
                    months=months,
                    min_share=cfg.min_share,
                ),
            ),
            metric_value=round(share * 100, 2),
            threshold=cfg.min_share * 100,
        )
    ]


def _funds_share(facts: ProjectFacts, day: dt.date, amount: int) -> tuple[ReportFact, float] | None:
    """The latest report giving the funds arrived by `day`, and their share of `amount`."""
    report = facts.funds_arrived_by(day)
    if report is None or report.funds_arrived is None:
        return None
    return report, report.funds_arrived / amount


# --- R04 investment behind 序时进度 --------------------------------------------------------------


def r04_behind_time_progress(ctx: Context) -> list[DesiredAlert]:
    # Investment is completed and reported from the start on; before it, R02 says what is late.
    if ctx.stage not in (Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION):
        return []
    plan = ctx.facts.plan_for(ctx.as_of.year)
    if plan is None or plan.annual <= 0:
        return []
    alerts = []
    for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH):
        checkpoint = _last_completed(ctx.as_of, kind)
        if not ctx.facts.has_report(checkpoint) and ctx.deadlines.deadline(checkpoint) >= ctx.as_of:
            # Its report is not due yet: judge the period before, not a gap nobody could close.
            checkpoint = _previous(checkpoint)
        if checkpoint.year != ctx.as_of.year:
            continue  # nothing of this year has ended yet
        split = plan.split(kind)
        expected = (
            sum(split[: checkpoint.index_in_year]) / plan.annual
            if split
            else float(time_progress(checkpoint.end))  # the panel's 序时进度 that day
        )
        report = _latest_report(ctx.facts, checkpoint, kind)
        ytd = report.ytd if report is not None else 0
        # Rounded so that 50 % - 40 % is exactly 10 points (binary floats make it 9.999…).
        gap = round((expected - ytd / plan.annual) * 100, 6)
        severity = grade(
            gap, [(ctx.rules.r04.yellow, Severity.YELLOW), (ctx.rules.r04.red, Severity.RED)]
        )
        if severity is None:
            continue
        basis = say.PLAN_EXPECTS if split else say.TIME_PROGRESS  # the bulletin's words
        alerts.append(
            DesiredAlert(
                ctx.key(AlertRule.R04, str(kind)),
                AlertRule.R04,
                severity,
                **say.texts(
                    say.R04_TITLE(name=ctx.facts.name, basis=basis, kind=KIND_LABEL[kind]),
                    say.R04(
                        period=named_period(checkpoint),
                        ytd=ytd,
                        annual=plan.annual,
                        share=pct(Fraction(ytd, plan.annual)),
                        basis=basis,
                        expected=pct(expected),
                        gap=half_up(gap),
                    ),
                ),
                metric_value=round(gap, 2),
                threshold=ctx.rules.r04.red if severity is Severity.RED else ctx.rules.r04.yellow,
            )
        )
    return alerts


def _latest_report(
    facts: ProjectFacts, checkpoint: ReportPeriod, kind: ReportPeriodKind
) -> ReportFact | None:
    """The latest report of this year up to the checkpoint, preferring the checkpoint's kind."""
    # From the newest: the reports are in period order, so those of earlier years come after
    # this year's (listing every report by the checkpoint was most of R04's time).
    latest: ReportFact | None = None
    for report in reversed(facts.reports):
        period = report.period
        if period.end > checkpoint.end:
            continue
        if period.year != checkpoint.year:
            break
        if period.kind is kind:
            return report
        if latest is None:
            latest = report
    # A report of this year left out of the facts would be the answer (or of its kind).
    facts.needs_reports_from(dt.date(checkpoint.year, 1, 1))
    return latest


@dataclass(frozen=True)
class Pacing:
    """One project's investment this year: completed, expected by now, planned for the year."""

    completed_ytd: int
    expected_ytd: int
    annual_plan: int


def investment_pacing(facts: ProjectFacts, as_of: dt.date) -> Pacing | None:
    """Completed (latest report of the year), expected (the plan's months ended by `as_of`, or
    序时进度 of the months when there is no split) and the annual plan; None without a plan."""
    plan = facts.plan_for(as_of.year)
    if plan is None or plan.annual <= 0:
        return None
    months_ended = as_of.month - 1 if as_of < _month_end(as_of) else as_of.month
    monthly = plan.split(ReportPeriodKind.MONTH)
    expected = sum(monthly[:months_ended]) if monthly else round(plan.annual * months_ended / 12)
    # The latest report by the day, if it is of this year (the reports are in period order).
    latest = facts.latest_by(as_of)
    if latest is None or latest.period.year != as_of.year:
        facts.needs_reports_from(dt.date(as_of.year, 1, 1))
        latest = None
    completed = latest.ytd if latest is not None else 0
    return Pacing(completed, expected, plan.annual)


# --- R05 milestone overdue, R17 deadline approaching --------------------------------------------


def open_milestones(facts: ProjectFacts, stage: Stage, as_of: dt.date) -> list[MilestoneFact]:
    """Planned milestones not achieved by `as_of` and not made moot by the stage (a start
    without a recorded 履约 makes FULFILLED moot)."""
    reached = _RANK.get(stage, -1)
    open_ = []
    for m in facts.milestones:
        kind, _, baseline, forecast, actual = m
        if (actual is not None and actual <= as_of) or (forecast or baseline) is None:
            continue  # achieved, or not planned
        settled = _SETTLED_AT.get(kind)
        if settled is not None and settled <= reached:
            continue
        open_.append(m)
    return open_


# Each stage's place in the order, and the place of the stage that settles a kind of node (the
# stage it moves the project to, else the one that ends its phase; SIGNED by the signing):
# looked up once here, not by ORDER.index for each of a pass's ~300k open-node checks.
_RANK = {stage: n for n, stage in enumerate(ORDER)}
_SETTLED_AT = {
    kind: _RANK[stage]
    for kind, stage in {
        **SETTLED_BY,
        **STAGE_OF_MILESTONE,
        MilestoneKind.SIGNED: Stage.SIGNED,
    }.items()
}


def slipped(original: dt.date | None, current: dt.date | None) -> say.Said:
    """How far today's plan moved from the original one, for a message: measured against the
    current plan, a replanned project would otherwise look on time however often it slipped."""
    if original is None or current is None or current == original:
        return say.NONE
    days = (current - original).days
    moved = say.SLIPPED_LATER if days > 0 else say.SLIPPED_EARLIER
    return moved(original=original, days=abs(days))


def milestone(m: MilestoneFact) -> Bilingual:
    return Bilingual(m.title, m.title_en)


def r05_milestone_overdue(ctx: Context) -> list[DesiredAlert]:
    cfg = ctx.rules.r05
    worst: tuple[Severity, int, MilestoneFact] | None = None
    late_names: list[say.Said] = []
    steps = [(cfg.yellow, Severity.YELLOW), (cfg.orange, Severity.ORANGE), (cfg.red, Severity.RED)]
    for m in open_milestones(ctx.facts, ctx.stage, ctx.as_of):
        assert m.due is not None
        if m.kind in OWN_RULE_NODES or ctx.stage not in PHASE.get(m.kind, {ctx.stage}):
            continue
        days = (ctx.as_of - m.due).days
        if days < 1:
            continue
        severity = grade(days, steps)
        if severity is None:
            continue
        late_names.append(
            say.R05_LATE(
                milestone=milestone(m), days=days, due=m.due, slipped=slipped(m.baseline, m.due)
            )
        )
        rank = (SEVERITY_ORDER[severity], days)
        if worst is None or rank > (SEVERITY_ORDER[worst[0]], worst[1]):
            worst = (severity, days, m)
    if worst is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R05),
            AlertRule.R05,
            worst[0],
            **say.texts(
                say.R05_TITLE(name=ctx.facts.name, milestone=milestone(worst[2])),
                say.joined(late_names),
            ),
            metric_value=float(worst[1]),
        )
    ]


def r17_deadline_near(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is Stage.EFFECTIVE:
        return []
    cfg = ctx.rules.r17
    near: list[tuple[int, say.Said]] = []
    for m in open_milestones(ctx.facts, ctx.stage, ctx.as_of):
        assert m.due is not None
        days = (m.due - ctx.as_of).days
        if 0 <= days <= cfg.milestone_days:
            near.append((days, say.R17_MILESTONE(milestone=milestone(m), due=m.due, days=days)))
    if ctx.stage is Stage.UNDER_CONSTRUCTION:
        submitted = {r.period for r in ctx.facts.reports if r.submitted_on <= ctx.as_of}
        for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH):
            current = _period_of(ctx.as_of, kind)
            for period in (_previous(current), current):
                days = (ctx.deadlines.deadline(period) - ctx.as_of).days
                if (
                    period.start >= period_of(ctx.since, kind).start
                    and 0 <= days <= cfg.report_days
                ):
                    ctx.facts.needs_reports_from(period.end)
                    if period in submitted:
                        continue
                    deadline = ctx.deadlines.deadline(period)
                    named = named_period(period)
                    near.append((days, say.R17_REPORT(period=named, deadline=deadline)))
    if not near:
        return []
    # By days, then by the Chinese words, as the texts themselves were sorted before.
    near.sort(key=lambda n: (n[0], n[1].render("zh")))
    return [
        DesiredAlert(
            ctx.key(AlertRule.R17),
            AlertRule.R17,
            Severity.BLUE,
            **say.texts(say.R17_TITLE(name=ctx.facts.name), say.joined(text for _, text in near)),
            metric_value=float(near[0][0]),
        )
    ]


# --- R06 stalled ------------------------------------------------------------------------------


def r06_stalled(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is not Stage.UNDER_CONSTRUCTION:
        return []
    reports = ctx.facts.reports_by(ctx.as_of)
    if not reports:
        ctx.facts.needs_reports_from(dt.date.min)
        return []
    latest = reports[-1]
    # Walk back over the run of reports that show the latest figures: its first one is where
    # progress last changed. A resume or a start inside the run restarts the count.
    changed_on = latest.period.end
    for report in reversed(reports):
        if (report.cum, report.physical_pct) != (latest.cum, latest.physical_pct):
            break
        changed_on = report.period.end
    else:
        # The run goes back to the oldest report held: one left out may continue it, which
        # matters unless the count starts at the stage anyway.
        if changed_on > ctx.since:
            ctx.facts.needs_reports_from(dt.date.min)
    changed_on = max(changed_on, ctx.since)
    days = (latest.period.end - changed_on).days
    cfg = ctx.rules.r06
    severity = grade(days, [(cfg.yellow_days, Severity.YELLOW), (cfg.red_days, Severity.RED)])
    if severity is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R06),
            AlertRule.R06,
            severity,
            **say.texts(
                say.R06_TITLE(name=ctx.facts.name),
                say.R06(since=changed_on, days=days, period=named_period(latest.period)),
            ),
            metric_value=float(days),
            threshold=float(cfg.red_days if severity is Severity.RED else cfg.yellow_days),
        )
    ]


# --- R07 report missing -------------------------------------------------------------------------


def r07_report_missing(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is not Stage.UNDER_CONSTRUCTION:
        return []
    cfg = ctx.rules.r07
    submitted = {r.period for r in ctx.facts.reports if r.submitted_on <= ctx.as_of}
    alerts = []
    for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH):
        first = period_of(ctx.since, kind)
        # From the latest period back to the first one missed in a row (every period since the
        # stage began, built and filtered, was ~5 % of a project's evaluation).
        missed: list[ReportPeriod] = []
        period: ReportPeriod | None = _last_completed(ctx.as_of, kind)
        while period is not None and period >= first:
            if ctx.deadlines.deadline(period) < ctx.as_of:
                ctx.facts.needs_reports_from(period.end)
                if period in submitted:
                    break
                missed.append(period)
            period = _previous(period) if period > first else None
        severity = grade(
            len(missed), [(cfg.yellow_missed, Severity.YELLOW), (cfg.red_missed, Severity.RED)]
        )
        if severity is None:
            continue
        keys = say.joined((named_period(p) for p in reversed(missed)), zh="、", en=", ")
        alerts.append(
            DesiredAlert(
                ctx.key(AlertRule.R07, str(kind)),
                AlertRule.R07,
                severity,
                **say.texts(
                    say.R07_TITLE(name=ctx.facts.name, kind=KIND_LABEL[kind]),
                    say.R07(count=len(missed), periods=keys),
                ),
                metric_value=float(len(missed)),
                threshold=float(cfg.red_missed if severity is Severity.RED else cfg.yellow_missed),
            )
        )
    return alerts


# --- R08 started but not 入库纳统 ---------------------------------------------------------------


def started_on(facts: ProjectFacts, day: dt.date) -> dt.date | None:
    """The start (开工): the STARTED milestone's day, else the day the project entered
    UNDER_CONSTRUCTION (a project registered already started has no STARTED milestone)."""
    for m in facts.milestones:
        if m.kind is MilestoneKind.STARTED and m.achieved_by(day):
            return m.actual
    return next(
        (
            s.effective_date
            for s in facts.stages
            if s.stage is Stage.UNDER_CONSTRUCTION and s.effective_date <= day
        ),
        None,
    )


def r08_not_in_statistics(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage not in (Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION):
        return []
    facts, day, cfg = ctx.facts, ctx.as_of, ctx.rules.r08
    if any(m.kind is MilestoneKind.IN_STATISTICS and m.achieved_by(day) for m in facts.milestones):
        return []
    start = started_on(facts, day)
    if start is None:
        return ctx.missing(AlertRule.R08)
    # "More than a month after the start": from the day after the same date a month later.
    if day > add_months(start, cfg.red_months):
        severity, months = Severity.RED, cfg.red_months
    elif day > add_months(start, cfg.yellow_months):
        severity, months = Severity.YELLOW, cfg.yellow_months
    else:
        return []
    days = (day - start).days
    return [
        DesiredAlert(
            ctx.key(AlertRule.R08),
            AlertRule.R08,
            severity,
            **say.texts(
                say.R08_TITLE(name=facts.name), say.R08(start=start, days=days, months=months)
            ),
            metric_value=float(days),
            threshold=float(months),
        )
    ]


# --- R09 production date passed -----------------------------------------------------------------


def r09_production_late(ctx: Context) -> list[DesiredAlert]:
    # The current plan: the production milestone's forecast once replanned (by the registry's
    # date or an approved baseline), its original date otherwise.
    node = next((m for m in ctx.facts.milestones if m.kind is MilestoneKind.IN_PRODUCTION), None)
    planned = (
        node.due if node is not None and node.due is not None else ctx.facts.planned_production
    )
    if ctx.stage is not Stage.UNDER_CONSTRUCTION or planned is None:
        return []
    days = (ctx.as_of - planned).days
    cfg = ctx.rules.r09
    severity = grade(
        days,
        [(cfg.yellow, Severity.YELLOW), (cfg.orange, Severity.ORANGE), (cfg.red, Severity.RED)],
    )
    if severity is None:
        return []
    original = node.baseline if node is not None else None
    return [
        DesiredAlert(
            ctx.key(AlertRule.R09),
            AlertRule.R09,
            severity,
            **say.texts(
                say.R09_TITLE(name=ctx.facts.name),
                say.R09(planned=planned, slipped=slipped(original, planned), days=days),
            ),
            metric_value=float(days),
        )
    ]


# --- R10 in production but not 达效 -------------------------------------------------------------


def r10_not_effective(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is not Stage.IN_PRODUCTION:
        return []
    cfg = ctx.rules.r10
    since = ctx.since
    months = (ctx.as_of.year - since.year) * 12 + ctx.as_of.month - since.month
    if ctx.as_of.day < since.day:
        months -= 1
    severity = grade(months, [(cfg.yellow_months, Severity.YELLOW), (cfg.red_months, Severity.RED)])
    if severity is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R10),
            AlertRule.R10,
            severity,
            **say.texts(say.R10_TITLE(name=ctx.facts.name), say.R10(since=since, months=months)),
            metric_value=float(months),
            threshold=float(cfg.red_months if severity is Severity.RED else cfg.yellow_months),
        )
    ]


# --- R11 suspended too long ---------------------------------------------------------------------


def r11_suspended_too_long(ctx: Context) -> list[DesiredAlert]:
    if ctx.stage is not Stage.SUSPENDED:
        return []
    cfg = ctx.rules.r11
    days = (ctx.as_of - ctx.since).days
    resume = ctx.facts.expected_resume_date
    has_plan = resume is not None and resume >= ctx.as_of
    severity = grade(days, [(cfg.yellow, Severity.YELLOW), (cfg.red, Severity.RED)])
    if not has_plan and days >= cfg.red_without_resume_plan:
        severity = Severity.RED
    if severity is None:
        return []
    plan = say.R11_RESUME(resume=resume) if has_plan else say.R11_NO_RESUME()
    return [
        DesiredAlert(
            ctx.key(AlertRule.R11),
            AlertRule.R11,
            severity,
            **say.texts(
                say.R11_TITLE(name=ctx.facts.name), say.R11(since=ctx.since, days=days, plan=plan)
            ),
            metric_value=float(days),
        )
    ]


# --- R12 assigned issue (交办事项) overdue ---------------------------------------------------------


def r12_issue_overdue(ctx: Context) -> list[DesiredAlert]:
    """One alert per open issue: yellow after its due day (or its feedback day without any
    feedback), red after twice the time (docs/domain.md, 13710). A closed issue is not among
    the facts: silent. The clocks run while the project is suspended: an issue is often why."""
    day = ctx.as_of
    alerts = []
    for issue in ctx.facts.issues:
        answered = issue.first_feedback_on is not None and issue.first_feedback_on <= day
        severity: Severity | None = None
        reasons: list[say.Said] = []
        if day > issue.red_on:
            severity = Severity.RED
            reasons.append(say.R12_TWICE(due=issue.due_on))
        elif day > issue.due_on:
            severity = Severity.YELLOW
            reasons.append(say.R12_LATE(due=issue.due_on, days=(day - issue.due_on).days))
        if not answered and day > issue.feedback_due_on:
            late = Severity.RED if day > issue.feedback_red_on else Severity.YELLOW
            reasons.append(say.R12_NO_FEEDBACK(due=issue.feedback_due_on))
            if severity is None or SEVERITY_ORDER[late] > SEVERITY_ORDER[severity]:
                severity = late
        if severity is None:
            continue
        alerts.append(
            DesiredAlert(
                ctx.key(AlertRule.R12, issue.issue_id),
                AlertRule.R12,
                severity,
                **say.texts(
                    say.R12_TITLE(name=ctx.facts.name, unit=issue.unit), say.joined(reasons)
                ),
                metric_value=float(max((day - issue.due_on).days, 0)),
                threshold=float((issue.red_on - issue.due_on).days),
            )
        )
    return alerts


# --- R13 cancellation candidate (清理) ----------------------------------------------------------


def r13_cancellation_candidate(ctx: Context) -> list[DesiredAlert]:
    """A signing that never landed: flagged for review (清理), never cancelled here."""
    if ctx.stage not in (Stage.SIGNED, Stage.FULFILLING):
        return []
    facts, day, cfg = ctx.facts, ctx.as_of, ctx.rules.r13
    reasons: list[say.Said] = []
    red_since = r02_red_since(facts, ctx.rules)
    over = add_months(red_since, cfg.r02_red_months)
    if day > over:
        months = (day.year - red_since.year) * 12 + day.month - red_since.month
        if day.day < red_since.day:
            months -= 1
        reasons.append(say.R13_RED(since=red_since, months=months))
    funding = _funding_failed(ctx)
    if funding:
        reasons.append(funding)
    if not reasons:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R13),
            AlertRule.R13,
            Severity.RED,
            **say.texts(say.R13_TITLE(name=facts.name), say.R13(reasons=say.joined(reasons))),
            metric_value=float((day - red_since).days),
        )
    ]


def _funding_failed(ctx: Context) -> say.Said | None:
    """The investor's funding failed: funds arrived still below R03's share this many months
    after signing (read from the reports; silent without a contract amount or a funds figure)."""
    facts, day, cfg = ctx.facts, ctx.as_of, ctx.rules.r13
    amount, signed = facts.contract_amount, facts.signed_date
    if not amount or signed is None or day < add_months(signed, cfg.funding_failed_months):
        return None
    found = _funds_share(facts, day, amount)
    if found is None or found[1] >= ctx.rules.r03.min_share:
        return None
    report, share = found
    return say.R13_FUNDING(
        months=cfg.funding_failed_months, funds=report.funds_arrived, share=pct(share)
    )


# --- R16 data quality ---------------------------------------------------------------------------


def r16_data_quality(ctx: Context) -> list[DesiredAlert]:
    cfg, facts, day = ctx.rules.r16, ctx.facts, ctx.as_of
    window_start = day - dt.timedelta(days=cfg.lookback_days)
    facts.needs_reports_from(window_start)
    problems: list[say.Said] = []
    highest_pct = facts.earlier_highest_pct
    latest: ReportFact | None = None
    # The reports of periods ended by the day, in period order (the hot loop of the rules:
    # unpacked, without listing them first).
    for report in facts.reports:
        period, _, _, pct, _, lowered, _ = report
        end = period.end
        if end > day:
            break
        latest = report
        if end >= window_start:
            if lowered:
                problems.append(say.R16_LOWERED(period=named_period(period)))
            if pct is not None and highest_pct is not None and pct < highest_pct:
                problems.append(
                    say.R16_PCT_DOWN(period=named_period(period), pct=pct, highest=highest_pct)
                )
        if pct is not None:
            highest_pct = max(pct, highest_pct or 0.0)
    if latest is None and (facts.earlier_highest_cum or 0) > facts.total_investment:
        # The newest report left out may be the one above the total investment.
        facts.needs_reports_from(dt.date.min)
    if latest is not None and latest.cum > facts.total_investment:
        problems.append(say.R16_OVER_TOTAL(cum=latest.cum, total=facts.total_investment))
    problems.extend(_photo_problems(facts.photos, window_start, day))
    severity = grade(len(problems), [(cfg.yellow, Severity.YELLOW), (cfg.red, Severity.RED)])
    if severity is None:
        return []
    return [
        DesiredAlert(
            ctx.key(AlertRule.R16),
            AlertRule.R16,
            severity,
            **say.texts(say.R16_TITLE(name=ctx.facts.name), say.joined(problems)),
            metric_value=float(len(problems)),
            threshold=float(cfg.red if severity is Severity.RED else cfg.yellow),
        )
    ]


def _photo_problems(photos: Sequence[PhotoFact], since: dt.date, day: dt.date) -> list[say.Said]:
    """One problem per milestone of the window whose photos do not show its date ("拍照留痕":
    a site photo proves the day only if it was taken that day)."""
    first: dict[str, PhotoFact] = {}
    for photo in photos:
        if since <= photo.milestone_date <= day:
            first.setdefault(photo.milestone_id, photo)
    out: list[say.Said] = []
    for photo in first.values():
        if photo.captured_on is None:
            out.append(say.R16_UNDATED(date=photo.milestone_date, milestone=photo.milestone))
        else:
            out.append(
                say.R16_MISDATED(
                    date=photo.milestone_date,
                    milestone=photo.milestone,
                    captured=photo.captured_on,
                )
            )
    return out


# --- R18 slip forecast ----------------------------------------------------------------------------

_HEADING_FOR = {forecast.Target.STARTED: say.START, forecast.Target.IN_PRODUCTION: say.PRODUCTION}


def r18_slip_forecast(ctx: Context) -> list[DesiredAlert]:
    """Warns before a start or production date is missed, when the pace so far points past it.
    Once the date has passed R02 and R09 speak instead; the year's investment pace is R04's."""
    cfg = ctx.rules.r18
    steps = [(cfg.blue, Severity.BLUE), (cfg.yellow, Severity.YELLOW)]
    found: list[tuple[Severity, int, say.Said]] = []
    for p in forecast.project(ctx.facts, ctx.stage, ctx.as_of):
        heading = _HEADING_FOR.get(p.target)
        if heading is None or p.planned <= ctx.as_of or p.slip_days is None:
            continue
        severity = grade(p.slip_days, steps)
        if severity is not None:
            text = say.R18_SLIP(
                target=heading,
                planned=p.planned,
                projected=p.projected,
                days=p.slip_days,
                basis=p.why,
            )
            found.append((severity, p.slip_days, text))
    if not found:
        return []
    severity, days, _ = max(found, key=lambda f: (SEVERITY_ORDER[f[0]], f[1]))
    return [
        DesiredAlert(
            ctx.key(AlertRule.R18),
            AlertRule.R18,
            severity,
            **say.texts(
                say.R18_TITLE(name=ctx.facts.name), say.joined(text for _, _, text in found)
            ),
            metric_value=float(days),
        )
    ]


RULES: dict[AlertRule, Callable[[Context], list[DesiredAlert]]] = {
    AlertRule.R01: r01_no_fulfilment,
    AlertRule.R02: r02_signed_not_started,
    AlertRule.R03: r03_funds_low,
    AlertRule.R04: r04_behind_time_progress,
    AlertRule.R05: r05_milestone_overdue,
    AlertRule.R06: r06_stalled,
    AlertRule.R07: r07_report_missing,
    AlertRule.R08: r08_not_in_statistics,
    AlertRule.R09: r09_production_late,
    AlertRule.R10: r10_not_effective,
    AlertRule.R11: r11_suspended_too_long,
    AlertRule.R12: r12_issue_overdue,
    AlertRule.R13: r13_cancellation_candidate,
    AlertRule.R16: r16_data_quality,
    AlertRule.R17: r17_deadline_near,
    AlertRule.R18: r18_slip_forecast,
}
# The checks in rule order, and those a suspension does not mute: built once, as a full pass at
# province scale runs 320,000 of them.
_CHECKS = tuple(RULES.values())
_WHILE_SUSPENDED = tuple(c for r, c in RULES.items() if r not in MUTED_WHILE_SUSPENDED)
