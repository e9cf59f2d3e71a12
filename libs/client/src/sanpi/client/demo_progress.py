"""Demo progress histories (docs/domain.md#district-demo): S-curve reports with noise, posted through the SDK.

Pure generation first: given a project's stage dates, total and the demo's "as of" day, build its
investment plans, 旬 and monthly reports, milestone forecasts and suspension, reproducibly from a
seed. `assign_profiles` makes sure that a portfolio triggers every alert rule the milestone
service evaluates (R02 R04 R05 R06 R07 R09 R11 R16 R17) when evaluated as of that day.
`post_history` then sends one history through the milestone API (admin token: reports carry
their real submission day)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sanpi.client.sdk.base import ApiError
from sanpi.client.sdk.milestone import MilestoneApi
from sanpi.events import ReportPeriodKind
from sanpi.events.xun import ReportPeriod, last_completed, month_end, period_of, periods_between

# docs/domain.md#district-demo noise: 8 % late reports, 2 % missing, 1 % falling cumulative, 10 % of projects with a
# 60-day stall window.
LATE_SHARE = 0.08
MISSING_SHARE = 0.02
FALLING_SHARE = 0.01
STALL_SHARE = 0.10
STALL_DAYS = 60
# 到位资金: an investor puts in a first tranche when the agreement is fulfilled (Anqing asks for
# 25 % of the contract within 3 months) and keeps the capital ahead of what is spent; a few are
# slow and trail the spending, and only those fall below R03's 25 % (资金到位率 targets are 80 %).
SLOW_FUNDS_SHARE = 0.10
FIRST_TRANCHE = (0.25, 0.45)  # of the contract amount (else the total)
SLOW_FIRST_TRANCHE = (0.03, 0.15)
AHEAD_OF_SPENDING = (1.05, 1.30)  # funds arrived / completed investment
SLOW_BEHIND_SPENDING = (0.35, 0.65)
# How a year's investment spreads over its months, in percent (docs/domain.md#district-demo: plan
# splits with Q1 ≈ 25–35 % of the year): January and February are light (the Spring Festival,
# frost), March picks up (28 % by the end of Q1), the rest of the year slowly tapers. A project
# building for part of a year spreads that year's share over its months in these proportions.
# The plans used to follow each project's S-curve alone: one finishing in March 2023 planned
# 94.7 % of its year by the end of February.
MONTH_WEIGHTS = (7, 7, 14, 10, 9, 9, 8, 8, 8, 7, 6, 7)
# Reports are due 旬 end + 2 days and by the 5th of the next month (the service's defaults).
XUN_GRACE_DAYS = 2
MONTH_DUE_DAY = 5


class Profile(StrEnum):
    """What a project's history is made to show (each one fires at least one rule)."""

    ON_PLAN = "ON_PLAN"  # S-curve with the docs/domain.md#district-demo noise only
    BEHIND = "BEHIND"  # R04: spending slows to a third this year
    STALLED = "STALLED"  # R06: flat for the last 60 days
    SILENT = "SILENT"  # R07: stopped reporting four 旬 ago
    CORRECTED = "CORRECTED"  # R16: two downward corrections lately
    SUSPENDED = "SUSPENDED"  # R11: 停工 45 days ago without a 复工 plan
    NODE_LATE = "NODE_LATE"  # R05: 封顶 (TOPPED_OUT) forecast 20 days ago, not reached
    NODE_SOON = "NODE_SOON"  # R17: 竣工 (COMPLETED) forecast in 5 days
    NOT_STARTED = "NOT_STARTED"  # R02: signed, never started (nothing to report)


# The profiles that must appear once in a portfolio, in the order they are handed out.
SPECIAL = (
    Profile.BEHIND,
    Profile.STALLED,
    Profile.SILENT,
    Profile.CORRECTED,
    Profile.SUSPENDED,
    Profile.NODE_LATE,
    Profile.NODE_SOON,
)


@dataclass(frozen=True)
class DemoProject:
    """What the generator needs of one project (as the registry's demo registered it)."""

    project_id: str
    total_investment: int  # 万元
    signed: dt.date
    planned_start: dt.date | None = None
    planned_production: dt.date | None = None
    started: dt.date | None = None  # actual 开工; None: not started by the demo's day
    produced: dt.date | None = None  # actual 投产
    contract_amount: int | None = None  # 签约额, 万元 (R03 judges the funds arrived against it)
    # What seeds the history: the data set's own key of the project. The registry gives a
    # project a new id at every load, and a history drawn from it differed from load to load.
    seed_key: str | None = None
    # A real project named in the sources: on plan, without the noise (no stall, late, missing
    # or lowered report, no slow investor), never given a profile that fires a rule.
    on_track: bool = False

    @property
    def key(self) -> str:
        return self.seed_key or self.project_id


@dataclass(frozen=True)
class GeneratedReport:
    period_key: str
    cum: int
    ytd: int
    funds_arrived: int
    physical_pct: float
    submitted_on: dt.date
    correction: bool = False
    narrative: str = ""
    problems: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "period_key": self.period_key,
            "completed_investment_cum": self.cum,
            "completed_investment_ytd": self.ytd,
            "funds_arrived_cum": self.funds_arrived,
            "physical_progress_pct": self.physical_pct,
            "narrative": self.narrative,
            "problems": [{"description": p} for p in self.problems],
            "correction": self.correction,
            "submitted_on": self.submitted_on.isoformat(),
        }


@dataclass(frozen=True)
class NodeForecast:
    kind: str
    forecast: dt.date
    reason: str


@dataclass(frozen=True)
class ProgressHistory:
    project_id: str
    profile: Profile
    started: dt.date | None
    produced: dt.date | None
    plans: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # year → 12 months
    reports: tuple[GeneratedReport, ...] = ()
    nodes: tuple[NodeForecast, ...] = ()
    suspended: dt.date | None = None
    stall: tuple[dt.date, dt.date] | None = None


def s_curve(t: float, steepness: float = 10.0) -> float:
    """A logistic S-curve scaled to run from 0 at t=0 to 1 at t=1 (slow, fast, slow)."""
    t = min(1.0, max(0.0, t))

    def raw(x: float) -> float:
        return 1 / (1 + math.exp(-steepness * (x - 0.5)))

    return (raw(t) - raw(0.0)) / (raw(1.0) - raw(0.0))


def _weight(first: dt.date, last: dt.date) -> float:
    """MONTH_WEIGHTS summed over the days `first`..`last` (inclusive), a month's weight spread
    evenly over its days."""
    total = 0.0
    day = first
    while day <= last:
        end = min(last, month_end(day))
        days_in = month_end(day).day
        total += MONTH_WEIGHTS[day.month - 1] * ((end - day).days + 1) / days_in
        day = end + dt.timedelta(days=1)
    return total


def seasonal_share(start: dt.date, end: dt.date, day: dt.date) -> float:
    """The project's planned share of its total by `day` when it builds from `start` to `end`:
    its S-curve gives each calendar year's part, and within the year the part follows
    MONTH_WEIGHTS over the months it builds in. The plan's split and the reports of a project
    on plan both follow it."""
    if day < start:
        return 0.0
    if day >= end:
        return 1.0
    span = max(1, (end - start).days)

    def curve(d: dt.date) -> float:
        return s_curve(min(1.0, max(0.0, (d - start).days / span)))

    year_first = max(start, dt.date(day.year, 1, 1))
    year_last = min(end, dt.date(day.year, 12, 31))
    before = curve(year_first - dt.timedelta(days=1)) if year_first > start else 0.0
    after = curve(year_last)
    whole = _weight(year_first, year_last)
    within = _weight(year_first, day) / whole if whole > 0 else 1.0
    return before + (after - before) * within


def deadline(period: ReportPeriod) -> dt.date:
    return period.deadline(xun_grace_days=XUN_GRACE_DAYS, month_due_day=MONTH_DUE_DAY)


def assign_profiles(
    projects: Sequence[DemoProject], until: dt.date, seed: int
) -> dict[str, Profile]:
    """One project for each special profile (among those under construction on `until`), the
    rest ON_PLAN; projects not started by `until` are NOT_STARTED."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by design
    building = [
        p.project_id
        for p in projects
        if not p.on_track
        and p.started is not None
        and p.started <= until - dt.timedelta(days=120)  # long enough to show a trend
        and (p.produced is None or p.produced > until)
    ]
    rng.shuffle(building)
    profiles = {
        p.project_id: Profile.NOT_STARTED
        if p.started is None or p.started > until
        else Profile.ON_PLAN
        for p in projects
    }
    for project_id, profile in zip(building, SPECIAL, strict=False):
        profiles[project_id] = profile
    return profiles


def generate_history(
    project: DemoProject, *, until: dt.date, profile: Profile, seed: int
) -> ProgressHistory:
    """The reports, plans and events of one project up to `until` (reproducible per seed)."""
    rng = random.Random(f"{seed}:{project.key}")  # noqa: S311 - demo data
    start = project.started
    if profile is Profile.NOT_STARTED or start is None or start > until:
        return ProgressHistory(project.project_id, Profile.NOT_STARTED, None, None)
    end = project.planned_production
    if end is None or end <= start + dt.timedelta(days=90):
        end = start + dt.timedelta(
            days=int(330 * rng.uniform(0.8, 1.3))
        )  # docs/domain.md#district-demo: median 330 d
    produced = project.produced if project.produced and project.produced <= until else None
    last_day = min(until, produced or until)
    if project.on_track and produced is not None:
        # Its investment is complete by the last 旬 it reports before production: the reports
        # stop at production, and a plan still asking for the days after that last report is
        # a gap nobody can close (R04, 10–33 points, in the month of production).
        end = max(
            start + dt.timedelta(days=30),
            min(end, last_completed(produced, ReportPeriodKind.XUN).end),
        )
    total = project.total_investment
    target = total * rng.uniform(0.85, 0.98)  # completed investment rarely reaches the total
    funds_on = _funds(project, profile, seed, lead=rng.random())

    stall: tuple[dt.date, dt.date] | None = None
    # A real project keeps to plan: the noise is drawn all the same (the draws of the others
    # stay as they were), and not applied.
    noisy = not project.on_track
    if profile is Profile.STALLED:
        stall = (until - dt.timedelta(days=STALL_DAYS), until)
    elif profile is Profile.ON_PLAN and rng.random() < STALL_SHARE and noisy:
        stall_start = start + dt.timedelta(days=rng.randint(30, max(31, (last_day - start).days)))
        stall = (stall_start, stall_start + dt.timedelta(days=STALL_DAYS))
    suspended = until - dt.timedelta(days=45) if profile is Profile.SUSPENDED else None
    silent_from = until - dt.timedelta(days=40) if profile is Profile.SILENT else None
    slow_from = dt.date(until.year, 1, 1) if profile is Profile.BEHIND else None

    def curve(day: dt.date) -> float:
        """The share of `target` completed on `day`, with stalls and slowdowns applied."""
        effective = day
        if stall and day > stall[0]:
            effective = stall[0] if day <= stall[1] else day - (stall[1] - stall[0])
        if suspended and day > suspended:
            effective = suspended
        share = seasonal_share(start, end, effective)
        if slow_from and day > slow_from:
            base = seasonal_share(start, end, slow_from)
            share = base + (share - base) / 3
        return share

    def cum_on(day: dt.date) -> int:
        return min(total, round(target * curve(day)))

    def planned_share(day: dt.date) -> float:
        """The share the plan expects by `day`: the curve without stalls or slowdowns."""
        return seasonal_share(start, end, day)

    plans: dict[int, tuple[int, ...]] = {}
    for year in range(start.year, last_day.year + 1):
        # The plan follows the project's own planned curve: nothing before the start, the planned
        # increment of each month after it, a ±10 % planning error for the whole year.
        error = rng.uniform(0.9, 1.1)
        if project.on_track:
            error = 1.0  # a real project's plan is what it then does
        months = []
        for month in range(1, 13):
            month_start = dt.date(year, month, 1)
            share = planned_share(month_end(month_start)) - planned_share(
                month_start - dt.timedelta(days=1)
            )
            months.append(max(0, round(target * share * error)))
        while sum(months) > total:  # a year's plan never exceeds the total (the API refuses it)
            largest = months.index(max(months))
            months[largest] -= sum(months) - total
        if sum(months) > 0 or not project.on_track:
            plans[year] = tuple(months)

    periods: list[ReportPeriod] = []
    for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH):
        first, last = period_of(start, kind), last_completed(last_day, kind)
        if first <= last:
            periods.extend(periods_between(first, last))
    periods.sort(key=lambda p: (p.end, p.xun == 0))

    reports: list[GeneratedReport] = []
    corrections_left = 2 if profile is Profile.CORRECTED else 0
    highest = 0
    for period in periods:
        if (suspended and period.end > suspended) or (silent_from and period.end > silent_from):
            continue
        if rng.random() < MISSING_SHARE and noisy:
            continue
        due = deadline(period)
        if rng.random() < LATE_SHARE and noisy:
            submitted = due + dt.timedelta(days=rng.randint(1, 10))
        else:
            submitted = period.end + dt.timedelta(days=rng.randint(0, (due - period.end).days))
        if submitted > until:
            continue  # not sent yet on the demo's day
        cum = cum_on(period.end)
        ytd = cum - cum_on(dt.date(period.year, 1, 1) - dt.timedelta(days=1))
        correction = False
        # A falling cumulative (data-quality noise) only on 上/中旬, so that the month's and the
        # 下旬's reports, which close on the same day, still agree.
        recent = period.end >= until - dt.timedelta(days=80)
        wants_fall = (rng.random() < FALLING_SHARE and noisy) or (corrections_left > 0 and recent)
        if period.xun in (1, 2) and wants_fall and highest > 100:
            # 3 % below the highest figure reported so far: a real fall, sent as a correction.
            lowered = round(highest * 0.97)
            cum, ytd = lowered, max(0, ytd - (cum - lowered))
            correction = True
            corrections_left = max(0, corrections_left - 1)
        highest = max(highest, cum)
        pct = round(100 * curve(period.end), 1)
        reports.append(
            GeneratedReport(
                period_key=period.key,
                cum=cum,
                ytd=min(ytd, cum),
                funds_arrived=funds_on(cum),
                physical_pct=pct,
                submitted_on=submitted,
                correction=correction,
                narrative=_narrative(pct, stall, period),
                problems=("资金未按计划到位",) if correction else (),
            )
        )

    nodes: list[NodeForecast] = []
    if profile is Profile.NODE_LATE:
        nodes.append(NodeForecast("TOPPED_OUT", until - dt.timedelta(days=20), "主体结构封顶"))
    if profile is Profile.NODE_SOON:
        nodes.append(NodeForecast("COMPLETED", until + dt.timedelta(days=5), "竣工验收"))
    return ProgressHistory(
        project.project_id,
        profile,
        start,
        produced,
        plans=plans,
        reports=tuple(reports),
        nodes=tuple(nodes),
        suspended=suspended,
        stall=stall,
    )


def _funds(
    project: DemoProject, profile: Profile, seed: int, *, lead: float
) -> Callable[[int], int]:
    """The funds arrived (万元) as a function of the completed investment: the first tranche,
    then a share of what is spent, never above the contract amount (else the total). `lead`
    (0–1) places the project in its range; the slow investors are drawn from a stream of their
    own, so that the rest of the history stays as it was. The suspended and corrected profiles
    blame late funds in their reports: their investors are slow."""
    rng = random.Random(f"{seed}:{project.key}:funds")  # noqa: S311 - demo data
    slow = rng.random() < SLOW_FUNDS_SHARE or profile in (Profile.SUSPENDED, Profile.CORRECTED)
    slow = slow and not project.on_track
    tranche, ratio = (
        (SLOW_FIRST_TRANCHE, SLOW_BEHIND_SPENDING) if slow else (FIRST_TRANCHE, AHEAD_OF_SPENDING)
    )
    ceiling = project.contract_amount or project.total_investment
    first = round(ceiling * rng.uniform(*tranche))
    factor = ratio[0] + (ratio[1] - ratio[0]) * lead

    def funds(cum: int) -> int:
        return min(ceiling, max(first, round(cum * factor)))

    return funds


def _narrative(pct: float, stall: tuple[dt.date, dt.date] | None, period: ReportPeriod) -> str:
    if stall and stall[0] < period.end <= stall[1]:
        return "受外部条件影响, 现场暂无实质进展"
    if pct < 20:
        return "场地平整、基础施工"
    if pct < 60:
        return "主体结构施工"
    if pct < 90:
        return "设备安装调试"
    return "收尾及竣工验收准备"


def generate_portfolio(
    projects: Sequence[DemoProject], *, until: dt.date, seed: int
) -> list[ProgressHistory]:
    """A history for every project, profiles assigned so that every rule fires on `until`."""
    profiles = assign_profiles(projects, until, seed)
    return [
        generate_history(p, until=until, profile=profiles[p.project_id], seed=seed)
        for p in projects
    ]


def evidence(project_id: str, kind: str, day: dt.date) -> dict[str, str]:
    return {
        "uri": f"https://demo.sanpi.invalid/evidence/{project_id}/{kind.lower()}.jpg",
        "taken_at": day.isoformat(),
    }


def _unless_done(call: Callable[[], object]) -> None:
    """Runs an API call; a 409 means it was done before (a re-run, or the registry's loader)."""
    try:
        call()
    except ApiError as exc:
        if exc.status != 409:
            raise


def _post_milestone(api: MilestoneApi, project_id: str, kind: str, day: dt.date) -> None:
    body = {"kind": kind, "date": day.isoformat(), "evidence": [evidence(project_id, kind, day)]}
    _unless_done(lambda: api.post_milestone(project_id, body))


def post_plans(api: MilestoneApi, history: ProgressHistory) -> int:
    """A history's investment plans (PUTs: a re-run changes nothing); returns the calls made."""
    for year, months in sorted(history.plans.items()):
        plan = {"annual_plan": sum(months), "monthly": list(months)}
        api.set_investment_plan(history.project_id, year, plan)
    return len(history.plans)


def report_rows(history: ProgressHistory) -> list[dict[str, Any]]:
    """A history's reports as rows of POST /v1/progress/batch, in the history's order."""
    return [{**report.body(), "project_id": history.project_id} for report in history.reports]


def post_after_reports(api: MilestoneApi, history: ProgressHistory) -> int:
    """What follows a history's reports: its replanned nodes and its suspension; returns the
    calls made."""
    pid = history.project_id
    for node in history.nodes:
        api.replan(
            pid, node.kind, {"forecast_date": node.forecast.isoformat(), "reason": node.reason}
        )
    if history.suspended is not None:
        body = {"date": history.suspended.isoformat(), "reason": "资金暂未到位, 停工待料"}
        _unless_done(lambda: api.suspend(pid, body))
    return len(history.nodes) + (history.suspended is not None)


def post_history(
    api: MilestoneApi, history: ProgressHistory, *, record_milestones: bool = True
) -> int:
    """Sends one history through the milestone API (admin token), a call a report; returns the
    calls made. Re-running it is safe: reports carry an Idempotency-Key, plans are PUTs."""
    calls = 0
    pid = history.project_id
    if history.started is None:
        return calls
    if record_milestones:
        _post_milestone(api, pid, "STARTED", history.started)
        calls += 1
    calls += post_plans(api, history)
    for report in history.reports:
        api.report_progress(pid, report.body(), idempotency_key=f"demo-{pid}-{report.period_key}")
        calls += 1
    calls += post_after_reports(api, history)
    if record_milestones and history.produced is not None:
        _post_milestone(api, pid, "IN_PRODUCTION", history.produced)
        calls += 1
    return calls


def post_portfolio(
    api: MilestoneApi, histories: Iterable[ProgressHistory], *, record_milestones: bool = True
) -> int:
    return sum(post_history(api, h, record_milestones=record_milestones) for h in histories)
