"""The injectable clock: rules, timers and quiet hours ask it for "now", so tests can travel in time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator

from sanpi.kit.messages import MessageError, template

# Campaign dates (期, 旬, deadlines) are Asia/Shanghai calendar days; timestamps stay UTC.
CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")

# The days a record of the campaign may name: the years 2000-2100 that targets and investment
# plans accept too. A typo such as 0223-03-01 is refused naming its field, instead of reaching the
# 旬 arithmetic (years 1900-2999) of a rule and answering 500.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


OUTSIDE_CAMPAIGN = template(
    "input.campaign_day",
    zh="应在 {first} 至 {last} 之间",
    en="must be between {first} and {last}",
)
NOT_A_DAY = template(
    "input.day",
    zh="日期应为 YYYY-MM-DD 格式的有效日期，如 2023-06-30（收到 {value}）",
    en="a date as YYYY-MM-DD, e.g. 2023-06-30 (got {value})",
)


def in_campaign(day: dt.date) -> dt.date:
    """`day`, or ValueError (a catalogued message) when it is outside FIRST_DAY..LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise MessageError(OUTSIDE_CAMPAIGN(first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


CampaignDate = Annotated[dt.date, AfterValidator(in_campaign)]


def _query_day(value: Any) -> Any:
    """A query's day as YYYY-MM-DD, refused in the reader's words when it is anything else."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise MessageError(NOT_A_DAY(value=value)) from None
    return value


# The `as_of` of a query (indicators, evaluations, forecasts): a CampaignDate whose refusal a
# person who mistyped it in a dashboard link or a CLI flag can read.
AsOfDay = Annotated[CampaignDate, BeforeValidator(_query_day)]


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
