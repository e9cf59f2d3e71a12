"""HTTP routes of the delivery log: /v1/deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import DEFAULT_LIMIT, MAX_LIMIT, Authenticated, Page, ReadSessionDep
from sanpi.notification.delivery import service
from sanpi.notification.delivery.schemas import DeliveryPublic

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


@router.get("", response_model=Page[DeliveryPublic])
async def list_deliveries(
    principal: Authenticated,
    session: ReadSessionDep,
    subscription: Annotated[str | None, Query(description="only this subscription's")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[DeliveryPublic]:
    """Every delivery of the caller's subscriptions, with the log of its attempts."""
    return await service.list_deliveries(
        session, principal=principal, subscription_id=subscription, limit=limit, cursor=cursor
    )
