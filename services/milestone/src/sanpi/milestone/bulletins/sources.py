"""What the bulletin needs from another service, through its public API: the registry's
indicators (targets against 序时进度, batches, conversion rates) as of a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from sanpi.kit import ServiceUnavailable
from sanpi.kit.peers import get_from_service
from sanpi.milestone.bulletins import messages as refusals
from sanpi.milestone.settings import MilestoneSettings

SUBJECT = "sanpi-milestone/bulletin"


async def registry_indicators(
    settings: MilestoneSettings,
    as_of: dt.date,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """GET /v1/indicators?as_of= of the registry, as a viewer; 503 when it cannot answer."""
    try:
        response = await get_from_service(
            settings.registry_url,
            "/v1/indicators",
            params={"as_of": as_of.isoformat()},
            secret=settings.jwt_secret.get_secret_value(),
            subject=SUBJECT,
            service="registry",
            max_ttl=settings.jwt_max_ttl,
            timeout=settings.registry_timeout_s,
            transport=transport,
        )
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        # InvalidURL, ValueError: a registry_url httpx cannot use, a setting's mistake: still 503.
        raise ServiceUnavailable(
            refusals.REGISTRY_FAILED(url=settings.registry_url, why=type(exc).__name__),
            headers={"Retry-After": "30"},
        ) from exc
    if response.status_code != 200:
        raise ServiceUnavailable(
            refusals.REGISTRY_ANSWERED(status=response.status_code),
            headers={"Retry-After": "30"},
        )
    body: dict[str, Any] = response.json()
    return body
