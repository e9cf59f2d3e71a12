"""Slip forecasts (pure): the projected start, production and year's investment, and rule R18 at
its edges: blue from 15 days of projected slip, yellow from 60, silent once the date has passed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from sanpi.events import MilestoneKind, Severity, Stage
from sanpi.events.xun import parse_period
from sanpi.milestone.rules.evaluation import Deadlines, evaluate_project
from sanpi.milestone.rules.facts import MilestoneFact, PlanFact, ProjectFacts, ReportFact, StageFact
from sanpi.milestone.rules.forecast import Target, project
from sanpi.milestone.settings import RuleSettings

pytestmark = pytest.mark.db_independent

D = dt.date
K = MilestoneKind


def facts(
    *milestones: MilestoneFact, started_on: dt.date | None = None, **changes: Any
) -> ProjectFacts:
    stages = [StageFact(Stage.SIGNED, D(2023, 1, 1))]
    if started_on is not None:
        stages.append(StageFact(Stage.UNDER_CONSTRUCTION, started_on))
    base = ProjectFacts(
        project_id="p1",
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=100_000,
        known_from=D(2023, 1, 1),
        signed_date=D(2023, 1, 1),
        stages=tuple(stages),
        milestones=milestones,
    )
    return dataclasses.replace(base, **changes)


START = MilestoneFact(K.STARTED, baseline=D(2023, 6, 1))
PRODUCTION = MilestoneFact(K.IN_PRODUCTION, baseline=D(2024, 6, 30))


def r18(f: ProjectFacts, as_of: dt.date) -> tuple[Severity, str] | None:
    found = [a for a in evaluate_project(f, as_of, RuleSettings(), Deadlines()) if a.rule == "R18"]
    return (found[0].severity, found[0].message) if found else None


def land(late_by: int, *, achieved: bool) -> MilestoneFact:
    due = D(2023, 3, 1)
    actual = due + dt.timedelta(days=late_by) if achieved else None
    return MilestoneFact(K.LAND_ACQUIRED, baseline=due, actual=actual)


def test_the_start_moves_with_the_latest_pre_start_milestone() -> None:
    on_time = facts(START, land(0, achieved=True))
    [p] = project(on_time, Stage.SIGNED, D(2023, 4, 1))
    assert (p.target, p.planned, p.projected, p.slip_days) == (
        Target.STARTED,
        D(2023, 6, 1),
        D(2023, 6, 1),
        0,
    )
    # Land still not acquired on 16 March, due 1 March: 15 days behind, so is the start.
    [p] = project(facts(START, land(0, achieved=False)), Stage.SIGNED, D(2023, 3, 16))
    assert (p.projected, p.slip_days, p.basis) == (
        D(2023, 6, 16),
        15,
        "前期节点 取得土地 延误 15 天",
    )


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [(14, None), (15, Severity.BLUE), (59, Severity.BLUE), (60, Severity.YELLOW)],
)
def test_r18_edges_on_a_start_heading_past_its_plan(
    late_by: int, expected: Severity | None
) -> None:
    f = facts(START, land(late_by, achieved=True))
    found = r18(f, D(2023, 5, 1))
    assert (found[0] if found else None) is expected
    if found:
        assert f"计划开工 2023-06-01, 预计 {D(2023, 6, 1) + dt.timedelta(days=late_by)}" in found[1]


def test_r18_is_silent_once_the_planned_date_has_passed() -> None:
    f = facts(START, land(60, achieved=True))
    assert r18(f, D(2023, 5, 31)) is not None
    assert r18(f, D(2023, 6, 1)) is None  # the date itself: R02 judges a missed start


def test_a_late_start_keeps_the_construction_period() -> None:
    started = START._replace(actual=D(2023, 8, 1))  # 61 days late
    f = facts(started, PRODUCTION, started_on=D(2023, 8, 1))
    [production] = [
        p
        for p in project(f, Stage.UNDER_CONSTRUCTION, D(2023, 9, 1))
        if p.target is Target.IN_PRODUCTION
    ]
    assert (production.projected, production.slip_days) == (D(2024, 8, 30), 61)
    assert production.basis == "按原计划工期 395 天, 开工后推迟 61 天"
    assert r18(f, D(2023, 9, 1)) == (
        Severity.YELLOW,
        "计划投产 2024-06-30, 预计 2024-08-30 (推迟 61 天): 按原计划工期 395 天, 开工后推迟 61 天",
    )


def test_a_replanned_production_date_is_the_plan_the_forecast_is_measured_against() -> None:
    started = START._replace(actual=D(2023, 8, 1))
    moved = PRODUCTION._replace(forecast=D(2024, 9, 30))
    f = facts(started, moved, started_on=D(2023, 8, 1))
    assert r18(f, D(2023, 9, 1)) is None  # 30 Aug projected, 30 Sep planned: on time


def test_the_years_investment_at_the_pace_of_its_newest_report() -> None:
    period = parse_period("2023-06")
    reports = (ReportFact(period, 30_000, 30_000, None, period.end),)
    f = facts(
        START._replace(actual=D(2023, 1, 1)),
        started_on=D(2023, 1, 1),
        reports=reports,
        plans=(PlanFact(2023, 80_000),),
    )
    [investment] = [
        p
        for p in project(f, Stage.UNDER_CONSTRUCTION, D(2023, 7, 5))
        if p.target is Target.ANNUAL_INVESTMENT
    ]
    # 30,000 in the 181 days to 30 June: 80,000 takes ceil(80,000 × 181 / 30,000) = 483 days.
    assert (investment.planned, investment.projected) == (D(2023, 12, 31), D(2024, 4, 27))
    assert investment.basis == "截至 2023-06-30 完成年度计划 37%, 按此进度"
    # The investment pace is R04's to judge: R18 leaves it alone.
    assert r18(f, D(2023, 7, 5)) is None
    nothing = dataclasses.replace(f, reports=(ReportFact(period, 0, 0, None, period.end),))
    [none] = [
        p
        for p in project(nothing, Stage.UNDER_CONSTRUCTION, D(2023, 7, 5))
        if p.target is Target.ANNUAL_INVESTMENT
    ]
    assert (none.projected, none.slip_days, none.basis) == (None, None, "本年尚无完成投资")


def test_a_pace_that_would_take_centuries_names_no_day() -> None:
    """Found by test_recent_reports_decide_as_every_report: 1 万元 done of a huge plan projected
    a day past the year 9999 and the whole evaluation pass failed (OverflowError)."""
    period = parse_period("2023-06")
    f = facts(
        started_on=D(2023, 1, 1),
        reports=(ReportFact(period, 1, 1, None, period.end),),
        plans=(PlanFact(2023, 2_000_000_000),),
    )
    [investment] = [
        p
        for p in project(f, Stage.UNDER_CONSTRUCTION, D(2023, 7, 5))
        if p.target is Target.ANNUAL_INVESTMENT
    ]
    assert (investment.projected, investment.slip_days) == (None, None)
    assert investment.basis == "截至 2023-06-30 完成年度计划 0%, 按此进度十年内无法完成"
    assert r18(f, D(2023, 7, 5)) is None
