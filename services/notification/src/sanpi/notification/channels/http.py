"""One outbound HTTP POST of a channel through the SSRF-guarded client: the receiver's answer, or
why there was none. Shared by the webhook and the robot channels."""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import ssl
import time
from dataclasses import dataclass, field

import aiohttp
import certifi
import yarl
from aiohttp.helpers import get_env_proxy_for_url

from sanpi.notification.channels import egress

# A vendor's JSON answer is small; a receiver that answers megabytes is not read to the end.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its status and body, or, with no answer, the error."""

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    duration_ms: int = 0


@functools.lru_cache(maxsize=1024)
def _env_proxy(origin: yarl.URL) -> tuple[yarl.URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for an origin (HTTP(S)_PROXY, NO_PROXY), looked up
    once per origin while a client lives."""
    try:
        return get_env_proxy_for_url(origin)
    except LookupError:
        return None, None


def client(
    *, timeout_s: float, max_connections: int, policy: egress.Egress
) -> aiohttp.ClientSession:
    """The HTTP client of the delivery worker. aiohttp, not httpx: a POST cost a quarter of the
    CPU (0.12 against 0.47 ms per request, measured on one loopback receiver; issue 8). Set up
    as httpx was: each phase of a request (connecting, reading) gets the timeout, idle
    connections are kept 5 s, proxies come from the environment as it is when the client is
    made, certificates from certifi. Its connector is the SSRF guard's (egress.py): every
    connection goes to an address the policy allows, checked as it connects. Not aiohttp's
    trust_env: it looked up the proxy and a ~/.netrc login in a worker thread for every
    request, two thread hops a webhook (issue 8), and httpx never sent netrc credentials to a
    receiver. No cookie jar: the one client serves every subscription, so a cookie kept from one
    receiver's answer went back with the next POST to that host, whoever's subscription it was;
    and the jar cost ~30 % of a POST's client CPU (0.13-0.17 against 0.10 ms, loopback)."""
    _env_proxy.cache_clear()
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        connector=egress.connector(
            policy,
            limit=max_connections,
            keepalive_timeout=5.0,
            ssl=ssl.create_default_context(cafile=certifi.where()),
        ),
        timeout=aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s),
    )


async def post(
    client: aiohttp.ClientSession, url: str, *, body: bytes, headers: dict[str, str]
) -> Answer:
    """POSTs once; never raises for network trouble, which is an Answer without a status. An
    address the SSRF guard refuses is such an answer too, its error saying so."""
    started = time.perf_counter()
    try:
        target = yarl.URL(url)
        proxy, proxy_auth = _env_proxy(target.origin())
        if proxy is not None:
            # The proxy connects to the target, out of the connector's sight: check it here.
            await egress.check_url(url, _policy(client))
        async with client.post(
            target,
            data=body,
            headers=headers,
            allow_redirects=False,
            proxy=proxy,
            proxy_auth=proxy_auth,
        ) as response:
            # Read (frees the connection for the next attempt), up to a bound.
            answer = await response.content.read(MAX_ANSWER_BYTES)
    except egress.TargetRefused as exc:
        return Answer(None, error=f"target refused: {exc}"[:500], duration_ms=_ms(started))
    except (aiohttp.ClientError, TimeoutError) as exc:
        refused = egress.refusal(exc)
        error = f"target refused: {refused}" if refused else f"{type(exc).__name__}: {exc}"
        return Answer(None, error=error[:500], duration_ms=_ms(started))
    retry_after = response.headers.get("retry-after")
    return Answer(
        response.status,
        answer,
        {"retry-after": retry_after} if retry_after else {},
        duration_ms=_ms(started),
    )


def _policy(client: aiohttp.ClientSession) -> egress.Egress:
    connector = client.connector
    # Only a client made by client() may post: its connector is the SSRF guard.
    assert isinstance(connector, egress.EgressConnector), "channel client without the SSRF guard"
    return connector.policy


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
