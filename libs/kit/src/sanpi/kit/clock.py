"""The injectable clock: rules, timers and quiet hours ask it for "now", so tests can travel in time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

# Campaign dates (期, 旬, deadlines) are Asia/Shanghai calendar days; timestamps stay UTC.
CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...


def today(clock: Clock) -> dt.date:
    """Today's date in Asia/Shanghai according to `clock`."""
    return clock.now().astimezone(CAMPAIGN_TZ).date()


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved (tests, `as_of` evaluations)."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        self._at = at

    def advance(self, delta: dt.timedelta) -> None:
        self._at += delta
