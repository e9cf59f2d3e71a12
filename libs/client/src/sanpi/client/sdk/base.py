"""What every SDK area shares: service URLs, the HTTP session, and ApiError."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServiceUrls:
    registry: str = "http://127.0.0.1:8001"
    milestone: str = "http://127.0.0.1:8002"
    notification: str = "http://127.0.0.1:8003"

    @staticmethod
    def from_env() -> ServiceUrls:
        """SANPI_REGISTRY_URL, SANPI_MILESTONE_URL, SANPI_NOTIFICATION_URL, else the local ports."""
        default = ServiceUrls()
        return ServiceUrls(
            registry=os.environ.get("SANPI_REGISTRY_URL", default.registry),
            milestone=os.environ.get("SANPI_MILESTONE_URL", default.milestone),
            notification=os.environ.get("SANPI_NOTIFICATION_URL", default.notification),
        )


class ApiError(Exception):
    """A non-2xx answer; `problem` is the RFC 9457 body when the service sent one."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or ""
        super().__init__(f"HTTP {status}: {detail}")


# A 503 from a sanpi service means the database was unavailable and nothing was written, so the
# same request is safe to send again after Retry-After; three tries ride out a restart.
RETRIES_ON_503 = 3
# A 429 comes from the write limit, checked before the route runs: nothing happened, and the
# request goes again after Retry-After. A script writing as fast as it can settles at the limit.
RETRIES_ON_429 = 30
MAX_RETRY_AFTER_S = 10.0
RETRIES = {503: RETRIES_ON_503, 429: RETRIES_ON_429}


class Http:
    """One httpx session for all three services; raises ApiError on non-2xx answers.

    `client`: an httpx.Client shared with other Http objects (one connection pool for a server
    that calls the services as many users, e.g. the portal); it is left open by close(). The
    token then travels on each request instead of on the client."""

    def __init__(
        self,
        token: str,
        timeout: float,
        *,
        client: httpx.Client | None = None,
        retries: Mapping[int, int] | None = None,
        language: str | None = None,
    ) -> None:
        self._authorization = {"Authorization": f"Bearer {token}"}
        # The services answer refusals in Chinese unless asked otherwise: `language` (the
        # portal's page language) or SANPI_LANG=en asks.
        if language := language or os.environ.get("SANPI_LANG"):
            self._authorization["Accept-Language"] = language
        self._owned = client is None
        self.client = client or httpx.Client(timeout=timeout)
        # Status → how many times it is retried after Retry-After ({} for none).
        self.retries = RETRIES if retries is None else retries

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {**self._authorization, **(kwargs.get("headers") or {})}
        response = self.client.request(method, url, **kwargs)
        tries: dict[int, int] = {}
        while tries.get(response.status_code, 0) < self.retries.get(response.status_code, 0):
            tries[response.status_code] = tries.get(response.status_code, 0) + 1
            time.sleep(_retry_after(response.headers.get("retry-after")))
            response = self.client.request(method, url, **kwargs)
        if response.is_success:
            if not response.content:
                return None
            if response.headers.get("content-type", "").startswith("application/json"):
                return response.json()
            return response.content
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text[:500]}
        raise ApiError(response.status_code, problem if isinstance(problem, dict) else {})

    def close(self) -> None:
        if self._owned:
            self.client.close()


def _retry_after(value: str | None) -> float:
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value))) if value else 1.0
    except ValueError:
        return 1.0
