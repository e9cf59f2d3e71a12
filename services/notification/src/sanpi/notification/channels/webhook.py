"""Standard Webhooks: `whsec_` secrets, HMAC-SHA256 signatures, and one signed POST per attempt."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import httpx

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 24 random bytes (Standard Webhooks format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    retry_after_s: float | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(
    client: httpx.AsyncClient, *, url: str, secret: str, msg_id: str, body: bytes
) -> AttemptResult:
    """POSTs one signed message; never raises for network trouble, which is a failed attempt."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "sanpi-notification/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500], None, _ms(started))
    error = None if response.is_success else f"HTTP {response.status_code}"
    return AttemptResult(
        response.status_code,
        error,
        parse_retry_after(response.headers.get("retry-after")),
        _ms(started),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
