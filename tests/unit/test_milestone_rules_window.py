"""The rules fed only recent reports (ProjectFacts.reports_from) decide as with every report."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanpi.events import ReportPeriodKind, Stage
from sanpi.events.xun import ReportPeriod, periods_between
from sanpi.milestone.rules.evaluation import (
    Deadlines,
    DesiredAlert,
    Pacing,
    evaluate_project,
    investment_pacing,
)
from sanpi.milestone.rules.facts import (
    PlanFact,
    ProjectFacts,
    ReportFact,
    ReportsTruncated,
    StageFact,
)
from sanpi.milestone.settings import RuleSettings

D = dt.date
RULES = RuleSettings()
DEADLINES = Deadlines()
WINDOW = dt.timedelta(days=RULES.r16.lookback_days)
FIRST, LAST = D(2022, 7, 1), D(2024, 12, 31)
PERIODS = sorted(
    [
        *periods_between(ReportPeriod(2022, 7, 1), ReportPeriod(2024, 12, 3)),
        *periods_between(ReportPeriod(2022, 7), ReportPeriod(2024, 12)),
    ],
    key=lambda p: p.in_order,
)


def recent_only(facts: ProjectFacts, as_of: dt.date) -> ProjectFacts:
    """What the repository hands the service: the reports of periods ending in R16's window
    before `as_of`, and the highest figures of the older ones."""
    since = as_of - WINDOW
    older = [r for r in facts.reports if r.period.end < since]
    if not older:
        return facts
    pcts = [r.physical_pct for r in older if r.physical_pct is not None]
    return dataclasses.replace(
        facts,
        reports=tuple(r for r in facts.reports if r.period.end >= since),
        reports_from=since,
        earlier_highest_pct=max(max(pcts), 0.0) if pcts else None,
        earlier_highest_cum=max(r.cum for r in older),
    )


def outcome(facts: ProjectFacts, as_of: dt.date) -> tuple[list[DesiredAlert], Pacing | None]:
    return evaluate_project(facts, as_of, RULES, DEADLINES), investment_pacing(facts, as_of)


def outcome_from_recent(
    facts: ProjectFacts, as_of: dt.date
) -> tuple[tuple[list[DesiredAlert], Pacing | None], bool]:
    """As the service decides: on recent reports, or on every report if a rule asks for them."""
    try:
        return outcome(recent_only(facts, as_of), as_of), False
    except ReportsTruncated:
        return outcome(facts, as_of), True


def started(on: dt.date, *reports: ReportFact, **changes: object) -> ProjectFacts:
    return ProjectFacts(
        project_id="p1",
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=100_000,
        stages=(StageFact(Stage.SIGNED, D(2022, 6, 1)), StageFact(Stage.UNDER_CONSTRUCTION, on)),
        reports=reports,
        plans=(PlanFact(2023, 120_000), PlanFact(2024, 120_000)),
        **changes,  # type: ignore[arg-type]
    )


def monthly(
    first: str, last: str, cum: int, pct: float | None = None, step: int = 0
) -> list[ReportFact]:
    """A month report and its three 旬 reports for each month; the cumulative grows by `step`
    a month (0: the same figures throughout)."""
    start = ReportPeriod(int(first[:4]), int(first[5:]))
    end = ReportPeriod(int(last[:4]), int(last[5:]))
    return [
        ReportFact(p, cum + n * step, cum + n * step, pct, p.end)
        for n, month in enumerate(periods_between(start, end))
        for p in (ReportPeriod(month.year, month.month, x) for x in (1, 2, 3, 0))
    ]


def test_a_project_reporting_regularly_needs_only_its_recent_reports() -> None:
    facts = started(D(2023, 1, 1), *monthly("2023-01", "2024-10", 1_000, 30.0, step=1_000))
    as_of = D(2024, 11, 20)
    assert recent_only(facts, as_of).reports_from == as_of - WINDOW
    assert outcome_from_recent(facts, as_of) == (outcome(facts, as_of), False)


def test_stalled_longer_than_the_window_counts_from_the_last_change() -> None:
    moving = [r._replace(cum=5_000) for r in monthly("2023-01", "2023-12", 0)]
    facts = started(D(2023, 1, 1), *moving, *monthly("2024-01", "2024-10", 10_000))
    as_of = D(2024, 11, 3)
    (alerts, _), reloaded = outcome_from_recent(facts, as_of)
    assert reloaded
    stalled = next(a for a in alerts if a.key == "R06:p1")
    # 2024-01-10 (first report with today's figures) → 2024-10-31.
    assert stalled.metric_value == 295.0
    assert (alerts, reloaded) == (outcome(facts, as_of)[0], True)


def test_stalled_since_the_start_needs_no_older_report() -> None:
    facts = started(D(2024, 9, 1), *monthly("2023-01", "2024-10", 10_000))
    as_of = D(2024, 11, 3)
    assert outcome_from_recent(facts, as_of) == (outcome(facts, as_of), False)


def test_a_long_gap_in_reporting_counts_back_to_the_last_report() -> None:
    facts = started(D(2023, 1, 1), *monthly("2023-01", "2024-03", 10_000))
    as_of = D(2024, 11, 20)
    (alerts, _), reloaded = outcome_from_recent(facts, as_of)
    assert reloaded
    missing = {a.key: a.metric_value for a in alerts if a.rule == "R07"}
    # 2024-04-X1 … 2024-11-X1 and 2024-04 … 2024-10 (the 11-X2 report is not due before 22 Nov).
    assert missing == {"R07:p1:XUN": 22.0, "R07:p1:MONTH": 7.0}
    assert alerts == outcome(facts, as_of)[0]


def test_falling_physical_progress_is_judged_against_older_reports() -> None:
    facts = started(
        D(2023, 1, 1),
        *monthly("2023-01", "2024-06", 1_000, 60.0, step=1_000),
        *monthly("2024-07", "2024-10", 20_000, 40.0, step=1_000),
    )
    as_of = D(2024, 11, 3)
    recent = recent_only(facts, as_of)
    assert recent.earlier_highest_pct == 60.0
    (alerts, _), reloaded = outcome_from_recent(facts, as_of)
    assert not reloaded
    assert any(a.key == "R16:p1" and "形象进度 40.0%" in a.message for a in alerts)
    assert alerts == outcome(facts, as_of)[0]


@pytest.mark.parametrize("cum", [90_000, 110_000])
def test_a_project_that_stopped_reporting_above_its_total(cum: int) -> None:
    facts = started(D(2023, 1, 1), *monthly("2023-01", "2024-03", cum))
    facts = dataclasses.replace(
        facts, stages=(StageFact(Stage.IN_PRODUCTION, D(2023, 1, 1)),), plans=()
    )
    as_of = D(2024, 11, 20)
    (alerts, pacing), reloaded = outcome_from_recent(facts, as_of)
    assert reloaded is (cum > facts.total_investment)
    assert ("R16:p1" in {a.key for a in alerts}) is (cum > facts.total_investment)
    assert (alerts, pacing) == outcome(facts, as_of)


def test_early_in_the_year_the_latest_report_of_the_year_may_be_older() -> None:
    # Only month reports since February: the 旬 checkpoint in May falls back to them.
    facts = started(
        D(2023, 1, 1),
        *monthly("2023-01", "2023-12", 10_000),
        *[r for r in monthly("2024-01", "2024-04", 30_000) if r.kind is ReportPeriodKind.MONTH],
    )
    as_of = D(2024, 5, 15)
    assert outcome_from_recent(facts, as_of) == (outcome(facts, as_of), True)


@st.composite
def histories(draw: st.DrawFn) -> tuple[ProjectFacts, dt.date]:
    """A project with random reports (gaps, stalls, corrections, falling progress, late ones)
    across two year boundaries, a random stage history and a random day."""
    day = st.dates(FIRST, LAST)
    start = draw(day)
    stages = [StageFact(Stage.SIGNED, D(2022, 6, 1)), StageFact(Stage.UNDER_CONSTRUCTION, start)]
    if draw(st.booleans()):
        later = draw(st.dates(start, LAST))
        stages.append(
            StageFact(draw(st.sampled_from([Stage.IN_PRODUCTION, Stage.SUSPENDED])), later)
        )
    reports = []
    cum, pct = 0, 0.0
    keep = draw(st.floats(0.1, 1.0))
    for period in PERIODS:
        if draw(st.floats(0.0, 1.0)) > keep:
            continue
        step = draw(st.sampled_from(["same", "same", "up", "down"]))
        if step == "up":
            cum, pct = cum + draw(st.integers(1, 5_000)), min(100.0, pct + 5.0)
        elif step == "down":
            cum, pct = max(0, cum - draw(st.integers(1, 3_000))), max(0.0, pct - 10.0)
        ytd = draw(st.integers(0, cum))
        late = dt.timedelta(days=draw(st.sampled_from([0, 0, 1, 5, 40])))
        reports.append(
            ReportFact(
                period,
                cum,
                ytd,
                draw(st.sampled_from([pct, pct, None])),
                period.end + late,
                step == "down" and draw(st.booleans()),
            )
        )
    monthly_plan = draw(st.sampled_from([None, tuple([10_000] * 12)]))
    facts = ProjectFacts(
        project_id="p1",
        name="p",
        park="梧桐",
        total_investment=draw(st.integers(1, 60_000)),
        known_from=D(2022, 6, 1),
        signed_date=D(2022, 6, 1),
        stages=tuple(stages),
        reports=tuple(reports),
        plans=(PlanFact(2023, 120_000, monthly_plan), PlanFact(2024, 120_000)),
    )
    return facts, draw(day)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_recent_reports_decide_as_every_report(history: tuple[ProjectFacts, dt.date]) -> None:
    facts, as_of = history
    assert outcome_from_recent(facts, as_of)[0] == outcome(facts, as_of)
