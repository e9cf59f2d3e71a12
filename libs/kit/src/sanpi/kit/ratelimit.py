"""Rate limits: a token bucket per key (a token's subject, a login name, a client address), kept
in memory by one process.

    limiter = RateLimiter(per_s=0.2, burst=5)   # 5 at once, then one every 5 s; per_s=0: no limit
    decision = limiter.take("zhang.wei")         # takes one token if there is one
    decision.allowed, decision.retry_after_s     # retry_after_s: when the next token is there
    limiter.check("zhang.wei", what="login attempts")   # takes one, or raises TooManyRequests
    limiter.reset("zhang.wei")                   # e.g. after a successful login

`TooManyRequests` is a Problem: the app's handlers answer it as 429 problem+json with
`Retry-After` (whole seconds, rounded up). The services limit every write (POST, PUT, PATCH,
DELETE) per token subject (settings rate_limit_writes_per_s and _burst, checked by the bearer
dependency before the route runs, so a refused write had no effect and is safe to resend); the
portal limits its login route per user name and per client address.

The buckets live in the process: N replicas allow N times the rate. At most `max_keys` buckets are
kept; when full, the longest idle one is dropped (it starts again full), which bounds memory
whatever keys an attacker makes up."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sanpi.kit.errors import Problem, Said
from sanpi.kit.messages import Bilingual, template

RATE_LIMITED = template(
    "rate.limited",
    zh="{what}过于频繁：最多连续 {burst} 次、每秒 {per_s} 次；请 {retry} 秒后再试",
    en="too many {what}: at most {burst} at once and {per_s} a second; retry in {retry} s",
)


REQUESTS = Bilingual(zh="请求", en="requests")


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: Said, *, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(detail, headers={"Retry-After": str(seconds)}, retry_after_s=seconds)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: float  # 0 when allowed


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Up to `burst` at once per key, refilled at `per_s` a second; `per_s <= 0` allows all."""

    def __init__(
        self,
        *,
        per_s: float,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_s = per_s
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_s > 0

    def take(self, key: str) -> Decision:
        """Takes one token from `key`'s bucket if it holds one."""
        if not self.enabled:
            return Decision(True, 0.0)
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_s)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Decision(True, 0.0)
        return Decision(False, (1 - bucket.tokens) / self.per_s)

    def check(self, key: str, *, what: str | Bilingual = REQUESTS) -> None:
        """Takes one token, or raises TooManyRequests (429, Retry-After) naming `what` (in the
        reader's language when Bilingual)."""
        decision = self.take(key)
        if not decision.allowed:
            raise TooManyRequests(
                RATE_LIMITED(
                    what=what,
                    burst=self.burst,
                    per_s=f"{self.per_s:g}",
                    retry=math.ceil(decision.retry_after_s),
                ),
                retry_after_s=decision.retry_after_s,
            )

    def reset(self, key: str) -> None:
        """Forgets `key`: its next request finds a full bucket."""
        self._buckets.pop(key, None)
