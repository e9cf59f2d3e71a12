"""交办事项 (assigned issues) as pure code: the 13710 deadlines in working days with 调休, and R12
at each edge of yellow and red, feedback lateness, and silence once closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanpi.events import IssueTerm, Severity, Stage
from sanpi.kit.workdays import CalendarYearUnknown
from sanpi.milestone.assigned.terms import Deadlines, deadlines
from sanpi.milestone.rules.evaluation import Deadlines as ReportDeadlines
from sanpi.milestone.rules.evaluation import evaluate_project
from sanpi.milestone.rules.facts import IssueFact, ProjectFacts, StageFact
from sanpi.milestone.settings import R12Thresholds, RuleSettings

pytestmark = pytest.mark.db_independent

D = dt.date
CFG = R12Thresholds()


def test_a_routine_issue_counts_7_working_days_across_a_make_up_sunday_and_may_day() -> None:
    # Friday 2023-04-21: Sunday 04-23 is a 调休 working day, 04-29..05-03 the Labour Day holiday.
    got = deadlines(D(2023, 4, 21), IssueTerm.ROUTINE, CFG)
    assert got == Deadlines(
        feedback_due_on=D(2023, 4, 25),  # Sun 23, Mon 24, Tue 25
        feedback_red_on=D(2023, 4, 28),  # 6 working days
        due_on=D(2023, 5, 4),  # 23, 24, 25, 26, 27, 28, (holiday) 4 May
        red_on=D(2023, 5, 12),  # 14 working days: Saturday 05-06 is a 调休 working day too
    )
    # Counting Monday-Friday only would have said 2 May, a holiday.
    assert got.due_on != D(2023, 5, 2)


def test_a_major_issue_is_due_a_month_later_on_the_next_working_day() -> None:
    # 2023-10-01 falls in the National Day holiday; Saturday 10-07 is a 调休 working day.
    got = deadlines(D(2023, 9, 1), IssueTerm.MAJOR, CFG)
    assert (got.due_on, got.red_on) == (D(2023, 10, 7), D(2023, 11, 1))


def test_a_due_day_set_by_hand_turns_red_after_as_long_again() -> None:
    got = deadlines(D(2023, 4, 21), IssueTerm.ROUTINE, CFG, due_on=D(2023, 4, 30))
    assert (got.due_on, got.red_on) == (D(2023, 4, 30), D(2023, 5, 9))


def test_a_year_the_calendar_does_not_know_is_refused() -> None:
    with pytest.raises(CalendarYearUnknown):
        deadlines(D(2099, 3, 2), IssueTerm.ROUTINE, CFG)


def issue(answered_on: dt.date | None = D(2023, 4, 24), **changes: Any) -> IssueFact:
    terms = deadlines(D(2023, 4, 21), IssueTerm.ROUTINE, CFG)
    base = IssueFact(
        "i1",
        "POWER",
        "供电公司",
        D(2023, 4, 21),
        terms.feedback_due_on,
        terms.feedback_red_on,
        terms.due_on,
        terms.red_on,
        answered_on,
    )
    return base._replace(**changes)


def project(*issues: IssueFact, stage: Stage = Stage.UNDER_CONSTRUCTION) -> ProjectFacts:
    return ProjectFacts(
        project_id="p1",
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=100_000,
        known_from=D(2023, 1, 1),
        signed_date=D(2023, 1, 1),
        stages=(StageFact(stage, D(2023, 1, 1)),),
        issues=issues,
    )


def r12(facts: ProjectFacts, day: dt.date) -> Severity | None:
    found = [
        a
        for a in evaluate_project(facts, day, RuleSettings(), ReportDeadlines())
        if a.rule == "R12"
    ]
    assert len(found) <= 1
    if found:
        assert found[0].key == "R12:p1:i1"
    return found[0].severity if found else None


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2023, 5, 3), None),  # the day before the due day
        (D(2023, 5, 4), None),  # the due day itself: still in time
        (D(2023, 5, 5), Severity.YELLOW),  # the day after
        (D(2023, 5, 11), Severity.YELLOW),  # the day before red
        (D(2023, 5, 12), Severity.YELLOW),  # twice the time, reached
        (D(2023, 5, 13), Severity.RED),  # past twice the time
    ],
)
def test_r12_at_each_edge_of_the_due_day_and_twice_the_time(
    day: dt.date, expected: Severity | None
) -> None:
    assert r12(project(issue()), day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2023, 4, 25), None),  # the feedback day
        (D(2023, 4, 26), Severity.YELLOW),  # no feedback one day after it
        (D(2023, 4, 28), Severity.YELLOW),  # twice the feedback time, reached
        (D(2023, 4, 29), Severity.RED),  # past it, still no feedback
    ],
)
def test_r12_watches_the_3_day_feedback_until_the_unit_answers(
    day: dt.date, expected: Severity | None
) -> None:
    assert r12(project(issue(answered_on=None)), day) is expected


def test_feedback_given_later_counts_only_from_its_day() -> None:
    late_answer = issue(answered_on=D(2023, 4, 27))
    assert r12(project(late_answer), D(2023, 4, 26)) is Severity.YELLOW
    assert r12(project(late_answer), D(2023, 4, 27)) is None


def test_a_closed_issue_is_silent_and_a_cancelled_project_has_none() -> None:
    # The service hands the rules only issues open on the day: a closed one is not there.
    assert r12(project(), D(2023, 6, 30)) is None
    assert r12(project(issue(), stage=Stage.CANCELLED), D(2023, 6, 30)) is None


def test_r12_keeps_running_while_the_project_is_suspended() -> None:
    assert r12(project(issue(), stage=Stage.SUSPENDED), D(2023, 5, 13)) is Severity.RED


def test_two_issues_raise_two_alerts() -> None:
    facts = project(issue(), issue(issue_id="i2"))
    keys = {
        a.key
        for a in evaluate_project(facts, D(2023, 5, 5), RuleSettings(), ReportDeadlines())
        if a.rule == "R12"
    }
    assert keys == {"R12:p1:i1", "R12:p1:i2"}
