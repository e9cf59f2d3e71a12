"""The portal's own web security: CSRF tokens, safe redirects after login, cookie flags, where a
request comes from, and the headers of pages. The kit gives the rest to every app: security
headers (kit.security) and rate limiting (kit.ratelimit, which the login uses per client
address); the lock-out of an account after wrong passwords lives with the accounts."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

# Response headers (CSP without inline script or style, frame-ancestors 'none', nosniff …) come
# from the kit's edge layer (kit/edge.py), which create_service_app installs on the portal as on
# every service; ECharts and htmx need nothing beyond its default policy. Pages add only what a
# page with a user's data and a CSRF token needs on top (web.render): no caching.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


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


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PAGE_HEADERS",
    "ASGIApp",
    "Receive",
    "Scope",
    "Send",
    "client_address",
    "is_https",
    "new_token",
    "safe_next",
    "same_token",
    "secure_cookie",
]
