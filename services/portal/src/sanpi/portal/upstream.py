"""The three services as the logged-in user: the SDK (sanpi.client) over one shared connection
pool, with a short-lived token minted for the user's role and parks, so that the services' own
authorization stays the only one. SDK calls are synchronous: they run in worker threads."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
import httpx
from starlette.requests import Request

from sanpi.client.sdk.base import ApiError, Http
from sanpi.client.sdk.milestone import MilestoneApi
from sanpi.client.sdk.notification import NotificationApi
from sanpi.client.sdk.registry import RegistryApi
from sanpi.kit import Role, issue_token
from sanpi.kit.auth import audience_of
from sanpi.portal import i18n
from sanpi.portal.accounts.service import Visitor
from sanpi.portal.settings import PortalSettings

T = TypeVar("T")

SERVICES = ("registry", "milestone", "notification")


class ServiceDown(Exception):
    """A service did not answer, or answered 5xx: the page says so in words, not a trace."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


def mint_token(
    secret: str,
    *,
    username: str,
    role: Role,
    parks: list[str],
    service: str,
    ttl: dt.timedelta,
    now: dt.datetime,
) -> str:
    """THE place where the portal makes a token for a user: subject = user name, the user's
    role and parks, a lifetime of minutes, and `service` as its only audience (one token per
    service the portal calls: a token stolen from one service's logs opens no other)."""
    return issue_token(
        secret,
        subject=username,
        role=role,
        parks=parks,
        ttl=ttl,
        now=now,
        audience=audience_of(service),
    )


@dataclass(frozen=True)
class _Minted:
    token: str
    renew_after: dt.datetime


class Upstream:
    """One per portal process: the shared httpx client and the tokens minted so far (reused
    until a minute before they expire: the services cache a token they verified)."""

    def __init__(self, settings: PortalSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.urls = {
            "registry": settings.registry_url.rstrip("/"),
            "milestone": settings.milestone_url.rstrip("/"),
            "notification": settings.notification_url.rstrip("/"),
        }
        self.client = httpx.Client(
            timeout=settings.upstream_timeout_s,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )
        self._tokens: dict[tuple[str, str, str, tuple[str, ...]], _Minted] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def token(self, visitor: Visitor, service: str, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        key = (service, visitor.account.username, visitor.account.role, tuple(visitor.parks))
        with self._lock:
            minted = self._tokens.get(key)
            if minted is not None and now < minted.renew_after:
                return minted.token
            ttl = dt.timedelta(seconds=self.settings.upstream_token_ttl_s)
            token = mint_token(
                self.settings.jwt_secret.get_secret_value(),
                username=visitor.account.username,
                role=visitor.role,
                parks=visitor.parks,
                service=service,
                ttl=ttl,
                now=now,
            )
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = _Minted(token, now + ttl - dt.timedelta(seconds=60))
            return token

    def _http(self, visitor: Visitor, service: str) -> Http:
        # No retries of 503 inside a page load: the person sees "try again" at once.
        return Http(
            self.token(visitor, service),
            self.settings.upstream_timeout_s,
            client=self.client,
            retries={},
            # The services' refusals in the visitor's language, as the page around them.
            language=i18n.language(),
        )

    def as_user(self, visitor: Visitor) -> Apis:
        return Apis(
            registry=RegistryApi(self._http(visitor, "registry"), self.urls["registry"]),
            milestone=MilestoneApi(self._http(visitor, "milestone"), self.urls["milestone"]),
            notification=NotificationApi(
                self._http(visitor, "notification"), self.urls["notification"]
            ),
        )


@dataclass(frozen=True)
class Apis:
    """The SDK's three areas, each carrying the visitor's token for that service."""

    registry: RegistryApi
    milestone: MilestoneApi
    notification: NotificationApi


def apis_of(request: Request, visitor: Visitor) -> Apis:
    """The services as the page's visitor."""
    apis: Apis = request.app.state.upstream.as_user(visitor)
    return apis


def _service_of(call: Callable[..., Any]) -> str:
    owner = getattr(call, "__self__", None)
    for name, kind in (
        ("registry", RegistryApi),
        ("milestone", MilestoneApi),
        ("notification", NotificationApi),
    ):
        if isinstance(owner, kind):
            return name
    return "service"


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs one SDK call in a worker thread. A service that cannot be reached, times out or
    answers 5xx raises ServiceDown; 4xx answers stay ApiError for the page to explain."""
    try:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))
    except httpx.TransportError as exc:
        raise ServiceDown(_service_of(fn), type(exc).__name__) from exc
    except ApiError as exc:
        if exc.status >= 500:
            raise ServiceDown(_service_of(fn), f"HTTP {exc.status}") from exc
        raise
