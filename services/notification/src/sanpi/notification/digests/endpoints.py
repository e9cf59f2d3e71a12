"""HTTP routes of /v1/subscriptions/{id}/digests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import DEFAULT_LIMIT, MAX_LIMIT, Authenticated, Page, ReadSessionDep
from sanpi.notification.digests import service
from sanpi.notification.digests.schemas import DigestPublic

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.get("/{subscription_id}/digests", response_model=Page[DigestPublic])
async def list_digests(
    subscription_id: str,
    principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[DigestPublic]:
    """The digests queued for this subscription, oldest first: each slot (a day, or a 旬) once,
    with the window it covers, its counts, and the delivery to follow in GET /v1/deliveries."""
    return await service.list_sent(
        session, subscription_id=subscription_id, principal=principal, limit=limit, cursor=cursor
    )
