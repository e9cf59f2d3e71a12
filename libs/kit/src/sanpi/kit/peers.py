"""Reading another sanpi service's public API as a service: a viewer token of a minute for that
service alone, one GET, the answer as it came (the caller decides what a refusal means)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import httpx

from sanpi.kit.auth import MAX_TTL, service_token


async def get_from_service(
    base_url: str,
    path: str,
    *,
    secret: str,
    subject: str,
    service: str,
    timeout: float,
    params: Mapping[str, str] | None = None,
    max_ttl: dt.timedelta = MAX_TTL,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.Response:
    """GET `path` of the service at `base_url` (`service`, e.g. "registry", is the token's only
    audience; `subject` is `sanpi-<caller>/<job>`). Raises httpx.HTTPError when it cannot be
    reached, and httpx.InvalidURL or ValueError for a base URL httpx cannot use (a setting's
    mistake, which callers that must carry on treat like an unreachable service)."""
    token = service_token(secret, subject=subject, service=service, max_ttl=max_ttl)
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout) as client:
        return await client.get(
            path, params=dict(params or {}), headers={"Authorization": f"Bearer {token}"}
        )
