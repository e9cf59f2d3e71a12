"""Working time (pure): delays such as "4h" or "3d" counted in working hours and working days of
Asia/Shanghai, skipping the days the calendar says are not working days."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sanpi.kit import CAMPAIGN_TZ

SHANGHAI = CAMPAIGN_TZ
DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
UNITS = {"s": "working seconds", "m": "working minutes", "h": "working hours", "d": "working days"}
# A year of working days: far enough for any delay, near enough to stop on a broken calendar.
MAX_DAYS_SCANNED = 800

IsWorkday = Callable[[dt.date], bool]


@dataclass(frozen=True)
class Delay:
    """A delay in working time: `amount` working seconds (s), minutes (m), hours (h) or days
    (d)."""

    amount: float
    unit: str

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


def parse_delay(text: str) -> Delay:
    """ "30m", "4h", "1d", "2.5h" → a Delay; ValueError (with the accepted forms) otherwise."""
    match = DELAY.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a working-time delay: a positive number followed by s, m, h or d "
            "(working seconds, minutes, hours, days), e.g. 4h, 1d"
        )
    return Delay(float(match.group(1)), match.group(2))


def parse_hhmm(text: str) -> dt.time:
    hours, _, minutes = text.partition(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class WorkingTime:
    """Office hours on working days; `is_workday` is the shared calendar (调休 included)."""

    is_workday: IsWorkday
    day_start: dt.time = dt.time(9, 0)
    day_end: dt.time = dt.time(17, 0)
    # Every instant counts (a 24/7 duty desk): a day is 24 hours, nothing is skipped.
    continuous: bool = False

    def _next_start(self, local: dt.datetime) -> dt.datetime:
        """The working instant at or after `local`: itself inside office hours of a working day,
        else the start of the next working period."""
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            start = dt.datetime.combine(day, self.day_start, SHANGHAI)
            end = dt.datetime.combine(day, self.day_end, SHANGHAI)
            if self.is_workday(day) and local < end:
                return max(local, start)
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working day within two years")

    def add(self, start: dt.datetime, delay: Delay) -> dt.datetime:
        """`start` plus `delay` in working time, in UTC. Minutes and hours run only in office
        hours; days land at the same time of day on the n-th following working day (a start
        outside office hours counts from the next working period)."""
        if self.continuous:
            return start.astimezone(dt.UTC) + _span(delay)
        local = self._next_start(start.astimezone(SHANGHAI))
        if delay.unit == "d":
            whole = int(delay.amount)
            day = local.date()
            for _ in range(whole):
                day += dt.timedelta(days=1)
                while not self.is_workday(day):
                    day += dt.timedelta(days=1)
            landed = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), SHANGHAI)
            rest = delay.amount - whole
            if rest:
                return self.add(landed, Delay(rest * self._day_minutes(), "m"))
            return landed.astimezone(dt.UTC)
        remaining = _span(delay)
        for _ in range(MAX_DAYS_SCANNED):
            end = dt.datetime.combine(local.date(), self.day_end, SHANGHAI)
            if local + remaining <= end:
                return (local + remaining).astimezone(dt.UTC)
            remaining -= end - local
            local = self._next_start(end + dt.timedelta(seconds=1))
        raise ValueError("the calendar has no working day within two years")

    def _day_minutes(self) -> float:
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.day_start)
        end = dt.datetime.combine(dt.date(2000, 1, 1), self.day_end)
        return (end - start).total_seconds() / 60


def _span(delay: Delay) -> dt.timedelta:
    """The delay as a plain duration (a day as 24 hours)."""
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[delay.unit]
    return dt.timedelta(seconds=delay.amount * seconds)
