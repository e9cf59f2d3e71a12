"""The portal's web security in one place: response headers (CSP without inline scripts,
frame-ancestors none, nosniff), the login rate limit per client address, CSRF tokens, safe
redirects after login, and cookie flags. The kit is to gain shared security middleware; this
module is what the portal needs meanwhile, kept together so that it can move there whole."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Everything comes from the portal itself: no CDN, no inline script or style (ECharts and htmx
# set styles through the CSSOM, which style-src does not govern; htmx's own indicator <style>
# is turned off in its config). data: images are ECharts' "save as image".
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    # Older browsers (and WeChat's built-in one) that ignore frame-ancestors.
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


class SecurityHeadersMiddleware:
    """Adds the headers above to every answer; pages (text/html) are also not cached, since they
    carry a user's data and CSRF token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- where a request comes from -------------------------------------------------------------


def _trusted(peer: str | None, proxies: list[str]) -> bool:
    if peer is None or not proxies:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(p, strict=False) for p in proxies)


def client_address(conn: HTTPConnection, proxies: list[str]) -> str:
    """The client's address: X-Forwarded-For's last hop when the peer is a trusted proxy."""
    peer = conn.client.host if conn.client else None
    if _trusted(peer, proxies):
        forwarded = conn.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer or "unknown"


def is_https(conn: HTTPConnection, proxies: list[str]) -> bool:
    if conn.url.scheme == "https":
        return True
    peer = conn.client.host if conn.client else None
    return _trusted(peer, proxies) and conn.headers.get("x-forwarded-proto") == "https"


def secure_cookie(conn: HTTPConnection, *, mode: str, proxies: list[str]) -> bool:
    """Whether cookies get the Secure flag: over HTTPS (mode auto), always, or never."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return is_https(conn, proxies)


# --- after login ------------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """A path on this site to go to after login, or `default`: never another host (open
    redirect), whatever the spelling (//host, /\\host, https:, javascript:, encoded or not)."""
    if not target or len(target) > 2000:
        return default
    if any(c in target for c in "\\\r\n\t\x00") or not target.startswith("/"):
        return default
    if target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- CSRF ---------------------------------------------------------------------------------


CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's token and the one a form or htmx sent."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


# --- login rate limit ---------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class LoginRateLimit:
    """A token bucket per client address: `burst` attempts at once, then one per `refill_s`.
    In memory: each replica limits on its own, which bounds guessing all the same (the account
    lock-out, in the database, is shared)."""

    burst: int
    refill_s: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    # Addresses kept at most; the fullest buckets are the least interesting to keep.
    max_addresses: int = 10_000

    def take(self, address: str) -> float:
        """0 when an attempt may go ahead (and counts it); otherwise the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self.max_addresses:
                self._forget_full(now)
            bucket = self._buckets[address] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) / self.refill_s)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) * self.refill_s

    def _forget_full(self, now: float) -> None:
        for key in [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.at) / self.refill_s >= self.burst
        ]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_addresses:
            self._buckets.clear()
