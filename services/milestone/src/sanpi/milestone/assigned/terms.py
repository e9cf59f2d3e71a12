"""The 13710 deadlines of an assigned issue (pure): feedback within 3 working days, a routine issue
solved within 7 working days, a major one within a month, and red at twice the allowed time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sanpi.events import IssueTerm
from sanpi.events.xun import add_months
from sanpi.kit.workdays import add_working_days, working_day_on_or_after
from sanpi.milestone.settings import R12Thresholds


@dataclass(frozen=True)
class Deadlines:
    """The days an issue is due on; R12 is yellow after a due day and red after a red day."""

    feedback_due_on: dt.date
    feedback_red_on: dt.date
    due_on: dt.date
    red_on: dt.date


def deadlines(
    raised_on: dt.date,
    term: IssueTerm,
    cfg: R12Thresholds,
    *,
    due_on: dt.date | None = None,
) -> Deadlines:
    """The deadlines of an issue raised on `raised_on`. Working days count 调休 (a make-up Saturday
    counts, a holiday does not); a month's end that falls on a day off moves to the next working
    day, as an office cannot receive the answer before. A due day set by hand (a leader's own
    deadline) replaces the term's, and red comes after as many calendar days again.

    Raises sanpi.kit.workdays.CalendarYearUnknown for a year the calendar does not know."""
    multiple = cfg.red_multiple
    feedback = cfg.feedback_working_days
    feedback_due = add_working_days(raised_on, feedback)
    feedback_red = add_working_days(raised_on, feedback * multiple)
    if due_on is not None:
        allowed = (due_on - raised_on).days
        return Deadlines(
            feedback_due, feedback_red, due_on, due_on + dt.timedelta(days=allowed * (multiple - 1))
        )
    if term is IssueTerm.MAJOR:
        months = cfg.major_months
        due = working_day_on_or_after(add_months(raised_on, months))
        red = working_day_on_or_after(add_months(raised_on, months * multiple))
    else:
        days = cfg.routine_working_days
        due = add_working_days(raised_on, days)
        red = add_working_days(raised_on, days * multiple)
    return Deadlines(feedback_due, feedback_red, due, red)
