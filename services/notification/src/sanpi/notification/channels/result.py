"""What one delivery attempt through any channel came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None  # HTTP status, or SMTP reply code
    error: str | None
    retry_after_s: float | None = None
    duration_ms: int = 0
    # The receiver said the endpoint is gone for good (HTTP 410): disable, do not retry.
    gone: bool = False
    delivered: bool = False

    @staticmethod
    def ok(status_code: int | None, duration_ms: int) -> AttemptResult:
        return AttemptResult(status_code, None, None, duration_ms, delivered=True)
