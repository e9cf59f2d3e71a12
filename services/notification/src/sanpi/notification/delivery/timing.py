"""Delivery timing rules, pure: quiet hours (Asia/Shanghai) and retry backoff with jitter."""

from __future__ import annotations

import datetime as dt
import random

from sanpi.kit import CAMPAIGN_TZ


def quiet_until(at: dt.datetime, start: str | None, end: str | None) -> dt.datetime | None:
    """If `at` falls in the quiet window [start, end) on the Asia/Shanghai wall clock (a window
    may cross midnight, e.g. 22:00-07:00), the UTC instant the window ends; else None."""
    if not start or not end:
        return None
    begin, finish = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
    local = at.astimezone(CAMPAIGN_TZ)
    now = local.time()
    inside = begin <= now < finish if begin < finish else now >= begin or now < finish
    if not inside:
        return None
    day = local.date() if now < finish else local.date() + dt.timedelta(days=1)
    # Asia/Shanghai has no daylight saving time: every wall-clock time exists exactly once.
    return dt.datetime.combine(day, finish, tzinfo=CAMPAIGN_TZ).astimezone(dt.UTC)


def retry_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    retry_after_s: float | None,
    rng: random.Random,
) -> float:
    """Exponential backoff with jitter (half to all of base·2^(n-1)); Retry-After is a floor."""
    exponential = min(max_s, base_s * float(2 ** (attempt - 1)))
    delay = exponential * rng.uniform(0.5, 1.0)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, max_s))
    return delay
