"""What one delivery attempt through any channel came to: delivered, retry later, or give up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # a failed attempt; try again after the backoff (or the receiver's wait)
    GIVE_UP = "give_up"  # a failed attempt that no retry can mend: a dead letter now
    DEFERRED = "deferred"  # not attempted: the channel's rate limit; queued again, not counted


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None  # HTTP status, or SMTP reply code
    error: str | None
    retry_after_s: float | None = None
    duration_ms: int = 0
    # The receiver said the endpoint is gone for good (HTTP 410): disable, do not retry.
    gone: bool = False
    delivered: bool = False
    give_up: bool = False
    deferred: bool = False

    @property
    def outcome(self) -> Outcome:
        if self.delivered:
            return Outcome.DELIVERED
        if self.deferred:
            return Outcome.DEFERRED
        if self.gone or self.give_up:
            return Outcome.GIVE_UP
        return Outcome.RETRY

    @staticmethod
    def ok(status_code: int | None, duration_ms: int) -> AttemptResult:
        return AttemptResult(status_code, None, None, duration_ms, delivered=True)

    @staticmethod
    def later(wait_s: float, reason: str) -> AttemptResult:
        """Not attempted now (a rate limit): the delivery waits `wait_s` and keeps its attempts."""
        return AttemptResult(None, reason, wait_s, 0, deferred=True)
