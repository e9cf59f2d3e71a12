"""Escalation and 督办 delays such as "4h" or "3d", counted in working time by the shared calendar
(sanpi.kit.workdays: office hours of working days, 调休 included)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from sanpi.kit.workdays import (
    OFFICE_HOURS,
    CalendarYearUnknown,
    OfficeHours,
    add_working_days,
    add_working_time,
)

log = logging.getLogger("sanpi.notification.working_time")

DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
OFFICE_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


@dataclass(frozen=True)
class Delay:
    """A delay in working time: `amount` working seconds (s), minutes (m), hours (h), or whole
    working days (d)."""

    amount: float
    unit: str

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"

    @property
    def span(self) -> dt.timedelta:
        """As a plain duration (a day as 24 hours)."""
        return dt.timedelta(seconds=self.amount * SECONDS[self.unit])


def parse_delay(text: str) -> Delay:
    """ "30m", "4h", "1d" → a Delay; ValueError (with the accepted forms) otherwise. Seconds exist
    for tests that run a service on the wall clock (working_days="all")."""
    match = DELAY.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a working-time delay: a positive number followed by s, m, h or d "
            "(working seconds, minutes, hours, days), e.g. 4h, 1d"
        )
    delay = Delay(float(match.group(1)), match.group(2))
    if delay.unit == "d" and not delay.amount.is_integer():
        raise ValueError(f"{text!r}: working days are whole days (write hours instead, e.g. 4h)")
    return delay


def parse_office_hours(spans: list[str]) -> OfficeHours:
    """["09:00-12:00", "13:00-17:00"] → OfficeHours; ValueError naming the bad span."""
    parsed = []
    for span in spans:
        match = OFFICE_SPAN.fullmatch(span.strip())
        if match is None:
            raise ValueError(f"{span!r}: an office-hours span is HH:MM-HH:MM, e.g. 09:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            parsed.append((dt.time(h1, m1), dt.time(h2, m2)))
        except ValueError as exc:
            raise ValueError(f"{span!r}: {exc}") from exc
    return OfficeHours(tuple(parsed))


@dataclass(frozen=True)
class WorkingTime:
    """Working time as the calendar counts it; `continuous`: every instant counts (a 24/7 duty
    desk, or a test running the service on the wall clock)."""

    hours: OfficeHours = OFFICE_HOURS
    continuous: bool = False

    def add(self, start: dt.datetime, delay: Delay) -> dt.datetime:
        """`start` plus `delay`: seconds, minutes and hours run in office hours of working days
        (1 working hour from Friday 16:30 is Monday 09:30); days land at the same time of day on
        the n-th following working day. In a year the calendar does not know yet, the delay is
        counted on the wall clock (an escalation a little early, never one that does not come),
        and the calendar counts the miss in sanpi_calendar_unknown_year_total."""
        if self.continuous:
            return start + delay.span
        try:
            if delay.unit == "d":
                return add_working_days(start, int(delay.amount))
            return add_working_time(start, delay.span, self.hours)
        except CalendarYearUnknown as exc:
            log.error(
                "working time of %s from %s: %s; counted on the wall clock", delay, start, exc
            )
            return start + delay.span
