"""When a digest is due (pure): daily at a wall-clock time, or at the end of each 旬, on working
days only when asked (the working-day calendar with 调休, sanpi.kit.workdays)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum

from sanpi.events.xun import ReportPeriod, xun_of
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.kit.workdays import CalendarYearUnknown, is_working_day, working_day_on_or_after

log = logging.getLogger("sanpi.notification.digests")

# How far back the latest slot is looked for: longer than any run of days off (the Spring
# Festival's 9), so that a working-days-only digest always finds its last slot.
LOOKBACK_DAYS = 31


# The unknown years already logged by this process: the job asks every poll, the log says it once.
_WARNED: set[int] = set()


def _warn(year: int, what: str, exc: CalendarYearUnknown) -> None:
    if year not in _WARNED:
        _WARNED.add(year)
        log.warning("%s: %s; until the calendar is upgraded, %s", what, exc, _FALLBACK)


_FALLBACK = "working-days-only digests go out every day of that year"


class DigestKind(StrEnum):
    DAILY = "daily"
    XUN = "xun"  # at the end of each 旬: X1 on the 10th, X2 on the 20th, X3 at month end


def wall_clock(value: str) -> dt.time:
    """The time of day of "08:30"; ValueError otherwise (the schemas check the pattern first)."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2:
        raise ValueError(f"not HH:MM: {value!r}")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class Plan:
    """A subscription's digest settings."""

    daily_at: dt.time | None = None
    xun_at: dt.time | None = None
    working_days_only: bool = False

    @staticmethod
    def of(daily_at: str | None, xun_at: str | None, working_days_only: bool) -> Plan:
        return Plan(
            wall_clock(daily_at) if daily_at else None,
            wall_clock(xun_at) if xun_at else None,
            working_days_only,
        )

    @property
    def kinds(self) -> list[DigestKind]:
        kinds = []
        if self.daily_at is not None:
            kinds.append(DigestKind.DAILY)
        if self.xun_at is not None:
            kinds.append(DigestKind.XUN)
        return kinds


@dataclass(frozen=True)
class Slot:
    """One scheduled digest: its key (the day, or the 旬), when it is due, and the year the
    calendar did not know if working days could not be told (then it goes out anyway)."""

    kind: DigestKind
    key: str
    due_at: dt.datetime  # UTC
    period: ReportPeriod | None = None  # the 旬 of a 旬 digest
    unknown_year: int | None = None


def sends_on(day: dt.date, plan: Plan) -> tuple[bool, int | None]:
    """Whether a digest of `plan` may go out on `day`, and the year the calendar did not know. A day in a year the calendar does
    not know is not guessed to be a working day or not: the digest goes out (a digest too many
    beats one missed) and says why (the calendar's error is counted and logged)."""
    if not plan.working_days_only:
        return True, None
    try:
        return is_working_day(day), None
    except CalendarYearUnknown as exc:
        _warn(exc.year, f"digest on {day}", exc)
        return True, exc.year


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=CAMPAIGN_TZ).astimezone(dt.UTC)


def latest_daily(plan: Plan, now: dt.datetime) -> Slot | None:
    """The latest daily slot due at or before `now`."""
    if plan.daily_at is None:
        return None
    today = now.astimezone(CAMPAIGN_TZ).date()
    for back in range(LOOKBACK_DAYS):
        day = today - dt.timedelta(days=back)
        due = _at(day, plan.daily_at)
        if due > now:
            continue
        sends, unknown = sends_on(day, plan)
        if sends:
            return Slot(DigestKind.DAILY, day.isoformat(), due, unknown_year=unknown)
    return None


def xun_send_day(period: ReportPeriod, plan: Plan) -> tuple[dt.date, int | None]:
    """The day a 旬's digest goes out: its last day, or on working days only the first working
    day from it (a 旬 ending on a Sunday is summed up on Monday, whole)."""
    if not plan.working_days_only:
        return period.end, None
    try:
        return working_day_on_or_after(period.end), None
    except CalendarYearUnknown as exc:
        _warn(exc.year, f"旬 digest of {period.key}", exc)
        return period.end, exc.year


def latest_xun(plan: Plan, now: dt.datetime) -> Slot | None:
    """The latest 旬 slot due at or before `now`."""
    if plan.xun_at is None:
        return None
    period = xun_of(now.astimezone(CAMPAIGN_TZ).date())
    for _ in range(4):  # the current 旬 and the three before: a shifted one is never further
        day, unknown = xun_send_day(period, plan)
        due = _at(day, plan.xun_at)
        if due <= now:
            return Slot(DigestKind.XUN, period.key, due, period=period, unknown_year=unknown)
        period = period.previous()
    return None


def latest(plan: Plan, kind: DigestKind, now: dt.datetime) -> Slot | None:
    return latest_daily(plan, now) if kind is DigestKind.DAILY else latest_xun(plan, now)


def due_now(plan: Plan, kind: DigestKind, now: dt.datetime) -> Slot | None:
    """The slot to send at `now`, if any. Nothing on a day off of a working-days-only plan, even
    to catch up: a service that was down on the last working day before a holiday does not send
    it on the holiday. A daily slot is caught up the same day only (back at 09:00 after an
    outage at 08:30): a missed day is covered by the next digest, whose window starts where the
    last one sent ended. A 旬 slot is caught up on any day it may go out."""
    sends, _unknown = sends_on(now.astimezone(CAMPAIGN_TZ).date(), plan)
    if not sends:
        return None
    slot = latest(plan, kind, now)
    today = now.astimezone(CAMPAIGN_TZ).date().isoformat()
    if slot is not None and kind is DigestKind.DAILY and slot.key != today:
        return None
    return slot
