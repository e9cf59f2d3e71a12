"""The alert rules as pure functions: each at its yellow and red boundaries, and its resolution."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from sanpi.events import AlertRule, MilestoneKind, ReportPeriodKind, Severity, Stage
from sanpi.events.xun import parse_period
from sanpi.milestone.rules.evaluation import Deadlines, DesiredAlert, evaluate_project, grade
from sanpi.milestone.rules.facts import (
    MilestoneFact,
    PlanFact,
    ProjectFacts,
    ReportFact,
    StageFact,
)
from sanpi.milestone.rules.reconcile import Action, reconcile
from sanpi.milestone.settings import RuleSettings

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

D = dt.date
RULES = RuleSettings()
DEADLINES = Deadlines()


def project(**changes: Any) -> ProjectFacts:
    base = ProjectFacts(
        project_id="p1",
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=100_000,
        known_from=D(2023, 1, 1),
        signed_date=D(2023, 1, 1),
        stages=(StageFact(Stage.SIGNED, D(2023, 1, 1)),),
    )
    return dataclasses.replace(base, **changes)


def started(on: dt.date, **changes: Any) -> ProjectFacts:
    stages = (StageFact(Stage.SIGNED, D(2023, 1, 1)), StageFact(Stage.UNDER_CONSTRUCTION, on))
    return project(stages=stages, **changes)


def report(key: str, cum: int, ytd: int | None = None, **changes: Any) -> ReportFact:
    period = parse_period(key)
    base = ReportFact(period, cum, cum if ytd is None else ytd, None, period.end)
    return base._replace(**changes)


def alerts(
    facts: ProjectFacts, as_of: dt.date, rules: RuleSettings = RULES
) -> dict[str, DesiredAlert]:
    return {a.key: a for a in evaluate_project(facts, as_of, rules, DEADLINES)}


def severity(facts: ProjectFacts, as_of: dt.date, key: str) -> Severity | None:
    alert = alerts(facts, as_of).get(key)
    return alert.severity if alert else None


# --- R02 signed but not started ---------------------------------------------------------------


def test_r02_yellow_once_the_planned_start_month_ended_red_three_months_after() -> None:
    facts = project(planned_start=D(2023, 3, 15))
    assert severity(facts, D(2023, 3, 31), "R02:p1") is None
    assert severity(facts, D(2023, 4, 1), "R02:p1") is Severity.YELLOW
    assert severity(facts, D(2023, 6, 14), "R02:p1") is Severity.YELLOW
    assert severity(facts, D(2023, 6, 15), "R02:p1") is Severity.RED


def test_r02_red_180_days_after_signing_without_a_planned_start() -> None:
    facts = project()
    assert severity(facts, D(2023, 6, 29), "R02:p1") is None  # 179 days
    assert severity(facts, D(2023, 6, 30), "R02:p1") is Severity.RED  # 180 days


def test_r02_resolves_once_started() -> None:
    facts = started(D(2023, 7, 1), planned_start=D(2023, 3, 15))
    assert severity(facts, D(2023, 6, 30), "R02:p1") is Severity.RED
    assert severity(facts, D(2023, 7, 1), "R02:p1") is None


# --- R04 behind 序时进度 -------------------------------------------------------------------------

PLAN = PlanFact(2023, 36_000)


def test_r04_per_xun_against_linear_time_progress() -> None:
    # As of 3 April the March 下旬 report was due (2 April): 序时进度 on 31 March, day 90 of 365 =
    # 24.66 % expected (calendar days, as the indicators count: not 9 of 36 旬).
    def r04(ytd: int) -> Severity | None:
        facts = started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-03-X3", ytd),))
        return severity(facts, D(2023, 4, 3), "R04:p1:XUN")

    assert r04(5_277) is None  # 14.658 % done: 9.999 points behind
    assert r04(5_276) is Severity.YELLOW  # 14.656 %: 10.002 points behind
    # 30 June, day 181: 49.59 % expected.
    facts = started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-06-X3", 7_053),))
    assert severity(facts, D(2023, 7, 3), "R04:p1:XUN") is Severity.YELLOW  # 29.997 points
    facts = started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-06-X3", 7_052),))
    assert severity(facts, D(2023, 7, 3), "R04:p1:XUN") is Severity.RED  # 30.0001 points


def test_r04_per_month_against_the_monthly_split() -> None:
    # Front-loaded plan: half the year's money in the first quarter.
    monthly = (6_000, 6_000, 6_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000)
    plan = PlanFact(2023, 36_000, monthly=monthly)
    as_of = D(2023, 4, 6)  # the March report was due on 5 April; expected 18000 = 50 %

    def r04(ytd: int) -> Severity | None:
        facts = started(D(2023, 1, 1), plans=(plan,), reports=(report("2023-03", ytd),))
        return severity(facts, as_of, "R04:p1:MONTH")

    assert r04(14_401) is None  # 9.997 points
    assert r04(14_400) is Severity.YELLOW  # 10 points
    assert r04(7_201) is Severity.YELLOW
    assert r04(7_200) is Severity.RED  # 30 points
    assert r04(18_000) is None  # caught up: resolved


def test_r04_prints_its_percentages_half_up_as_bulletins_do() -> None:
    # 11,250 of 36,000 is 31.25 %: printed 31.3 (四舍五入), not Python's 31.2 (half to even).
    monthly = (9_000, 9_000, 9_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000)
    plan = PlanFact(2023, 36_000, monthly=monthly)
    facts = started(D(2023, 1, 1), plans=(plan,), reports=(report("2023-03", 11_250),))
    alert = alerts(facts, D(2023, 4, 6))["R04:p1:MONTH"]
    assert (
        "年度完成 11250 万元 / 计划 36000 万元 = 31.3%, 计划应完成 75.0%, 落后 43.8 个百分点"
        in (alert.message)
    )


def test_r04_does_not_judge_a_period_whose_report_is_not_due_yet() -> None:
    facts = started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-06-X2", 17_000),))
    # 1 July: June 下旬 has ended but its report is due on 2 July: judge June 中旬 (20 June).
    assert severity(facts, D(2023, 7, 1), "R04:p1:XUN") is None
    assert severity(facts, D(2023, 7, 3), "R04:p1:XUN") is None  # 47.2 % vs 49.6 %: 2.4 points


def test_r04_silent_without_a_plan_and_while_suspended() -> None:
    behind = started(D(2023, 1, 1), reports=(report("2023-06-X3", 0),))
    assert severity(behind, D(2023, 7, 3), "R04:p1:XUN") is None
    suspended = dataclasses.replace(
        behind,
        plans=(PLAN,),
        stages=(*behind.stages, StageFact(Stage.SUSPENDED, D(2023, 6, 1))),
    )
    assert severity(suspended, D(2023, 7, 3), "R04:p1:XUN") is None


# --- R05 milestone overdue -------------------------------------------------------------------


def test_r05_short_nodes_yellow_orange_red() -> None:
    facts = project(
        milestones=(MilestoneFact(MilestoneKind.LAND_ACQUIRED, baseline=D(2023, 3, 1)),)
    )
    assert severity(facts, D(2023, 3, 1), "R05:p1") is None
    assert severity(facts, D(2023, 3, 2), "R05:p1") is Severity.YELLOW  # 1 day
    assert severity(facts, D(2023, 3, 8), "R05:p1") is Severity.YELLOW  # 7 days
    assert severity(facts, D(2023, 3, 9), "R05:p1") is Severity.ORANGE  # 8 days
    assert severity(facts, D(2023, 3, 15), "R05:p1") is Severity.ORANGE  # 14 days
    assert severity(facts, D(2023, 3, 16), "R05:p1") is Severity.RED  # 15 days


def test_r05_leaves_start_production_and_effective_to_their_own_rules() -> None:
    # 开工 late is R02, 投产 late is R09, 达效 late is R10: one delay gives one alert.
    nodes = tuple(
        MilestoneFact(kind, baseline=D(2023, 3, 1))
        for kind in (MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION, MilestoneKind.EFFECTIVE)
    )
    assert severity(project(milestones=nodes), D(2023, 9, 1), "R05:p1") is None
    assert severity(started(D(2023, 2, 1), milestones=nodes), D(2023, 9, 1), "R05:p1") is None


def test_r05_judges_only_the_nodes_of_the_current_phase() -> None:
    topping = (MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 3, 1)),)
    assert severity(project(milestones=topping), D(2023, 4, 1), "R05:p1") is None  # not started
    assert (
        severity(started(D(2023, 1, 10), milestones=topping), D(2023, 4, 1), "R05:p1")
        is Severity.RED
    )


def test_r05_names_the_milestone_as_officials_do_not_by_its_code() -> None:
    nodes = (
        MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 3, 1)),
        MilestoneFact(MilestoneKind.COMPLETED, label="二期", baseline=D(2023, 3, 10)),
        MilestoneFact(MilestoneKind.CUSTOM, label="环评批复", baseline=D(2023, 3, 20)),
    )
    late = alerts(started(D(2023, 1, 10), milestones=nodes), D(2023, 4, 1))["R05:p1"]
    assert late.title.endswith("节点逾期 主体封顶")  # the worst
    assert "竣工（二期） 逾期 22 天" in late.message
    assert "环评批复 逾期 12 天" in late.message
    for code in ("TOPPED_OUT", "COMPLETED", "CUSTOM"):
        assert code not in late.title + late.message


def test_r05_follows_the_forecast_and_resolves_when_achieved() -> None:
    node = MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 3, 1), forecast=D(2023, 4, 1))
    facts = started(D(2023, 1, 10), milestones=(node,))
    assert severity(facts, D(2023, 3, 20), "R05:p1") is None  # replanned to April
    assert severity(facts, D(2023, 4, 16), "R05:p1") is Severity.RED
    done = started(D(2023, 1, 10), milestones=(node._replace(actual=D(2023, 4, 10)),))
    assert severity(done, D(2023, 4, 16), "R05:p1") is None
    # a 履约 node made moot by a start is not overdue
    moot = started(
        D(2023, 2, 1), milestones=(MilestoneFact(MilestoneKind.FULFILLED, baseline=D(2023, 1, 15)),)
    )
    assert severity(moot, D(2023, 4, 1), "R05:p1") is None


def test_r05_construction_nodes_are_settled_by_production() -> None:
    # Nobody posted 竣工 (COMPLETED), but a project in production has been completed.
    nodes = (
        MilestoneFact(MilestoneKind.COMPLETED, baseline=D(2023, 8, 1)),
        MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 7, 1)),
    )
    building = started(D(2023, 2, 1), milestones=nodes)
    assert severity(building, D(2023, 9, 1), "R05:p1") is Severity.RED
    producing = dataclasses.replace(
        building, stages=(*building.stages, StageFact(Stage.IN_PRODUCTION, D(2023, 8, 20)))
    )
    assert severity(producing, D(2023, 9, 1), "R05:p1") is None
    # ... while a permit node of a project still signed is not settled by anything yet.
    permit = project(
        milestones=(MilestoneFact(MilestoneKind.PLANNING_PERMIT, baseline=D(2023, 3, 1)),)
    )
    assert severity(permit, D(2023, 3, 20), "R05:p1") is Severity.RED


def test_r10_in_production_not_effective_after_12_and_24_months() -> None:
    facts = started(D(2022, 1, 10))
    producing = dataclasses.replace(
        facts, stages=(*facts.stages, StageFact(Stage.IN_PRODUCTION, D(2023, 3, 15)))
    )
    assert severity(producing, D(2024, 3, 14), "R10:p1") is None  # 11 months 30 days
    assert severity(producing, D(2024, 3, 15), "R10:p1") is Severity.YELLOW  # 12 months
    assert severity(producing, D(2025, 3, 14), "R10:p1") is Severity.YELLOW
    assert severity(producing, D(2025, 3, 15), "R10:p1") is Severity.RED  # 24 months
    effective = dataclasses.replace(
        producing, stages=(*producing.stages, StageFact(Stage.EFFECTIVE, D(2025, 1, 1)))
    )
    assert severity(effective, D(2025, 3, 15), "R10:p1") is None  # resolved by 达效


def test_r04_judges_a_monthly_plan_per_xun_and_not_before_the_start() -> None:
    plan = PlanFact(2023, 12_000, monthly=(0, 0, 3000, 3000, 3000, 3000, 0, 0, 0, 0, 0, 0))
    by_xun = plan.split(ReportPeriodKind.XUN)
    assert by_xun is not None
    assert by_xun[6:9] == (1000, 1000, 1000)
    assert sum(by_xun) == 12_000
    signed = project(plans=(plan,))
    assert not [k for k in alerts(signed, D(2023, 4, 5)) if k.startswith("R04")], (
        "not started: R02's business, not R04's"
    )
    on_plan = started(D(2023, 3, 1), plans=(plan,), reports=(report("2023-03-X3", 3000),))
    assert severity(on_plan, D(2023, 4, 3), "R04:p1:XUN") is None  # 3000 of 3000 by March X3


# --- R06 stalled --------------------------------------------------------------------------------

STALL = (
    report("2023-02-X3", 20_000, physical_pct=30.0),
    report("2023-03-X1", 20_000, physical_pct=30.0),
    report("2023-03-X2", 20_000, physical_pct=30.0),
    report("2023-03-X3", 20_000, physical_pct=30.0),
)


@pytest.mark.parametrize(
    ("since", "latest", "expected"),
    [
        (D(2023, 3, 7), 3, None),  # 7 → 20 March: 13 days
        (D(2023, 3, 6), 3, Severity.YELLOW),  # 14 days
        (D(2023, 3, 11), 4, Severity.YELLOW),  # 11 → 31 March: 20 days
        (D(2023, 3, 10), 4, Severity.RED),  # 21 days
    ],
)
def test_r06_days_without_change_in_reported_figures(
    since: dt.date, latest: int, expected: Severity | None
) -> None:
    facts = started(since, reports=STALL[:latest])
    assert severity(facts, D(2023, 4, 3), "R06:p1") is expected


def test_r06_resolves_when_progress_moves() -> None:
    moving = (*STALL, report("2023-04-X1", 21_000))
    facts = started(D(2023, 1, 1), reports=moving)
    assert severity(facts, D(2023, 4, 3), "R06:p1") is Severity.RED
    assert severity(facts, D(2023, 4, 13), "R06:p1") is None


# --- R07 report missing -----------------------------------------------------------------------


def test_r07_xun_report_missing_then_twice() -> None:
    facts = started(D(2023, 3, 1))
    assert severity(facts, D(2023, 3, 12), "R07:p1:XUN") is None  # deadline day of 3月上旬
    assert severity(facts, D(2023, 3, 13), "R07:p1:XUN") is Severity.YELLOW
    assert severity(facts, D(2023, 3, 22), "R07:p1:XUN") is Severity.YELLOW
    assert severity(facts, D(2023, 3, 23), "R07:p1:XUN") is Severity.RED
    late = report("2023-03-X2", 100)._replace(submitted_on=D(2023, 3, 25))
    with_late = started(D(2023, 3, 1), reports=(late,))
    assert severity(with_late, D(2023, 3, 24), "R07:p1:XUN") is Severity.RED
    assert severity(with_late, D(2023, 3, 25), "R07:p1:XUN") is None  # late, but there


def test_r07_month_report_by_the_fifth() -> None:
    facts = started(D(2023, 3, 1))
    assert severity(facts, D(2023, 4, 5), "R07:p1:MONTH") is None
    assert severity(facts, D(2023, 4, 6), "R07:p1:MONTH") is Severity.YELLOW
    assert severity(facts, D(2023, 5, 6), "R07:p1:MONTH") is Severity.RED


def test_r07_deadlines_are_configurable() -> None:
    facts = started(D(2023, 3, 1))
    relaxed = Deadlines(xun_grace_days=5)
    found = evaluate_project(facts, D(2023, 3, 13), RULES, relaxed)
    assert "R07:p1:XUN" not in {a.key for a in found}


def test_r07_counts_back_to_the_latest_report_or_the_stage_start() -> None:
    # Started in 3月中旬: that 旬 is the first due; 4月下旬 (deadline 2 May) is not due yet.
    facts = started(D(2023, 3, 15))
    missing = alerts(facts, D(2023, 5, 1))["R07:p1:XUN"]
    assert missing.metric_value == 4.0
    assert missing.message.endswith("2023年3月中旬、2023年3月下旬、2023年4月上旬、2023年4月中旬")
    reported = started(D(2023, 3, 15), reports=(report("2023-03-X3", 100),))
    missing = alerts(reported, D(2023, 5, 1))["R07:p1:XUN"]
    assert (missing.metric_value, missing.message.endswith(": 2023年4月上旬、2023年4月中旬")) == (
        2,
        True,
    )
    # Counting stops at the stage's first period, even the first one there is.
    stages = (StageFact(Stage.UNDER_CONSTRUCTION, D(1900, 1, 1)),)
    earliest = project(known_from=D(1900, 1, 1), stages=stages)
    found = alerts(earliest, D(1900, 2, 6))
    assert (found["R07:p1:XUN"].metric_value, found["R07:p1:MONTH"].metric_value) == (3.0, 1.0)


# --- R09 production date passed -----------------------------------------------------------------


def test_r09_yellow_orange_red_and_resolution() -> None:
    facts = started(D(2023, 3, 1), planned_production=D(2024, 6, 30))
    assert severity(facts, D(2024, 6, 30), "R09:p1") is None
    assert severity(facts, D(2024, 7, 1), "R09:p1") is Severity.YELLOW  # 1 day
    assert severity(facts, D(2024, 7, 31), "R09:p1") is Severity.ORANGE  # 31 days
    assert severity(facts, D(2024, 9, 28), "R09:p1") is Severity.ORANGE  # 90 days
    assert severity(facts, D(2024, 9, 29), "R09:p1") is Severity.RED  # 91 days
    produced = dataclasses.replace(
        facts, stages=(*facts.stages, StageFact(Stage.IN_PRODUCTION, D(2024, 10, 1)))
    )
    assert severity(produced, D(2024, 10, 1), "R09:p1") is None


# --- R11 suspended too long ---------------------------------------------------------------------


def suspended(on: dt.date, resume: dt.date | None, **changes: Any) -> ProjectFacts:
    facts = started(D(2023, 3, 1), expected_resume_date=resume, **changes)
    return dataclasses.replace(facts, stages=(*facts.stages, StageFact(Stage.SUSPENDED, on)))


def test_r11_with_a_resume_plan() -> None:
    facts = suspended(D(2023, 5, 1), D(2023, 12, 31))
    assert severity(facts, D(2023, 5, 31), "R11:p1") is None  # 30 days
    assert severity(facts, D(2023, 6, 1), "R11:p1") is Severity.YELLOW  # 31 days
    assert severity(facts, D(2023, 7, 30), "R11:p1") is Severity.YELLOW  # 90 days
    assert severity(facts, D(2023, 7, 31), "R11:p1") is Severity.RED  # 91 days


def test_r11_without_a_resume_plan_is_red_after_a_month_and_resolves_on_resume() -> None:
    facts = suspended(D(2023, 5, 1), None)
    assert severity(facts, D(2023, 5, 31), "R11:p1") is None
    assert severity(facts, D(2023, 6, 1), "R11:p1") is Severity.RED
    resumed = dataclasses.replace(
        facts, stages=(*facts.stages, StageFact(Stage.UNDER_CONSTRUCTION, D(2023, 6, 10)))
    )
    assert severity(resumed, D(2023, 6, 10), "R11:p1") is None


def test_suspension_mutes_the_overdue_rules() -> None:
    node = MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 4, 1))
    active = started(D(2023, 3, 1), planned_production=D(2023, 4, 1), milestones=(node,))
    assert {"R05:p1", "R09:p1", "R07:p1:XUN"} <= set(alerts(active, D(2023, 6, 1)))
    muted = suspended(
        D(2023, 5, 1), D(2023, 9, 1), planned_production=D(2023, 4, 1), milestones=(node,)
    )
    assert set(alerts(muted, D(2023, 6, 1))) == {"R11:p1"}


# --- R16 data quality ---------------------------------------------------------------------------


def test_r16_one_problem_yellow_two_red_and_resolution_after_the_lookback() -> None:
    lowered = report("2023-03-X1", 9_000, lowered_by_correction=True)
    facts = started(D(2023, 1, 1), reports=(report("2023-02-X3", 10_000), lowered))
    assert severity(facts, D(2023, 3, 12), "R16:p1") is Severity.YELLOW
    twice = dataclasses.replace(
        facts, reports=(*facts.reports, report("2023-03-X2", 8_000, lowered_by_correction=True))
    )
    assert severity(twice, D(2023, 3, 22), "R16:p1") is Severity.RED
    # 90 days after the corrected periods, they no longer count.
    assert severity(twice, D(2023, 6, 18), "R16:p1") is Severity.YELLOW
    assert severity(twice, D(2023, 6, 19), "R16:p1") is None


def test_r16_completed_above_a_lowered_total_and_falling_physical_progress() -> None:
    facts = started(
        D(2023, 1, 1),
        total_investment=50_000,
        reports=(
            report("2023-03-X1", 60_000, physical_pct=40.0),
            report("2023-03-X2", 60_000, physical_pct=35.0),
        ),
    )
    found = alerts(facts, D(2023, 3, 22))["R16:p1"]
    assert found.severity is Severity.RED
    assert "超过总投资" in found.message
    assert "形象进度" in found.message


# --- R17 deadline approaching (blue) ------------------------------------------------------------


def test_r17_milestone_due_within_seven_days() -> None:
    facts = project(
        milestones=(MilestoneFact(MilestoneKind.LAND_ACQUIRED, baseline=D(2023, 3, 10)),)
    )
    assert severity(facts, D(2023, 3, 2), "R17:p1") is None  # 8 days
    assert severity(facts, D(2023, 3, 3), "R17:p1") is Severity.BLUE  # 7 days
    assert severity(facts, D(2023, 3, 10), "R17:p1") is Severity.BLUE  # due today
    assert severity(facts, D(2023, 3, 11), "R17:p1") is None  # overdue now: R05's turn


def test_r17_report_due_within_two_days() -> None:
    facts = started(D(2023, 3, 1))
    assert severity(facts, D(2023, 3, 9), "R17:p1") is None  # 3月上旬 due 12 March: 3 days
    assert severity(facts, D(2023, 3, 10), "R17:p1") is Severity.BLUE
    sent = started(D(2023, 3, 1), reports=(report("2023-03-X1", 10),))
    assert severity(sent, D(2023, 3, 11), "R17:p1") is None


def test_cancelled_and_unknown_projects_raise_nothing() -> None:
    facts = started(D(2023, 3, 1), planned_production=D(2023, 4, 1))
    cancelled = dataclasses.replace(
        facts, stages=(*facts.stages, StageFact(Stage.CANCELLED, D(2023, 5, 1)))
    )
    assert alerts(facts, D(2023, 6, 1))
    assert alerts(cancelled, D(2023, 6, 1)) == {}
    assert alerts(facts, D(2022, 12, 31)) == {}  # before the project was known


def test_grade_is_inclusive_and_picks_the_worst() -> None:
    steps = [(10.0, Severity.YELLOW), (30.0, Severity.RED)]
    assert grade(9.99, steps) is None
    assert grade(10, steps) is Severity.YELLOW
    assert grade(30, steps) is Severity.RED


def test_thresholds_come_from_settings() -> None:
    facts = started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-03-X3", 6_000),))
    strict = RULES.model_copy(update={"r04": RULES.r04.model_copy(update={"yellow": 5.0})})
    assert "R04:p1:XUN" not in alerts(facts, D(2023, 4, 3))  # 8.3 points behind
    assert alerts(facts, D(2023, 4, 3), strict)["R04:p1:XUN"].severity is Severity.YELLOW


# --- the reconciler's decision ------------------------------------------------------------------


def want(key: str, sev: Severity) -> DesiredAlert:
    return DesiredAlert(key, AlertRule.R04, sev, "t")


def test_reconcile_raises_once_updates_on_severity_change_and_resolves() -> None:
    first = reconcile([want("a", Severity.YELLOW)], {})
    assert [(c.action, c.key) for c in first] == [(Action.RAISE, "a")]
    same = reconcile([want("a", Severity.YELLOW)], {"a": Severity.YELLOW})
    assert [c.action for c in same] == [Action.REFRESH]
    worse = reconcile([want("a", Severity.RED)], {"a": Severity.YELLOW})
    assert [(c.action, c.previous_severity) for c in worse] == [(Action.UPDATE, Severity.YELLOW)]
    gone = reconcile([], {"a": Severity.RED})
    assert [(c.action, c.key) for c in gone] == [(Action.RESOLVE, "a")]
    green = reconcile([want("a", Severity.GREEN)], {"a": Severity.RED})
    assert [c.action for c in green] == [Action.RESOLVE]


def test_facts_keep_reports_in_period_order_and_know_which_periods_were_reported() -> None:
    shuffled = (report("2023-03", 300), report("2023-01-X2", 100), report("2023-03-X3", 300))
    facts = started(D(2023, 1, 1), reports=shuffled)
    # A month ends with its 下旬; the 旬 comes first, as it is due first.
    assert [r.period.key for r in facts.reports] == ["2023-01-X2", "2023-03-X3", "2023-03"]
    assert [r.period.key for r in facts.reports_by(D(2023, 3, 30))] == ["2023-01-X2"]
    assert facts.has_report(parse_period("2023-03"))
    assert facts.has_report(parse_period("2023-03-X3"))
    assert facts.has_report(parse_period("2023-01-X2"))
    assert not facts.has_report(parse_period("2023-01-X1"))
    assert not facts.has_report(parse_period("2023-04-X1"))
    assert not facts.has_report(parse_period("2022-12"))
