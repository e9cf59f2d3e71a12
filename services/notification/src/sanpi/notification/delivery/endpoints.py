"""HTTP routes of the delivery log (/v1/deliveries) and dead-letter replay (/v1/dead-letters)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
)
from sanpi.notification.delivery import service
from sanpi.notification.delivery.models import DeliveryStatus
from sanpi.notification.delivery.schemas import DeliveryPublic, ReplayRequest, ReplayResult

router = APIRouter(tags=["deliveries"])


@router.get("/deliveries", response_model=Page[DeliveryPublic])
async def list_deliveries(
    principal: Authenticated,
    session: ReadSessionDep,
    subscription: Annotated[str | None, Query(description="only this subscription's")] = None,
    status: Annotated[
        DeliveryStatus | None, Query(description="e.g. DEAD: the dead letters")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[DeliveryPublic]:
    """Every delivery of the caller's subscriptions, with the log of its attempts."""
    return await service.list_deliveries(
        session,
        principal=principal,
        subscription_id=subscription,
        status=status,
        limit=limit,
        cursor=cursor,
    )


@router.post("/dead-letters/replay", response_model=ReplayResult)
async def replay_dead_letters(
    body: ReplayRequest, principal: Authenticated, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> ReplayResult:
    """Queues dead letters again, each with a full set of attempts (the log keeps the old ones)."""
    return await service.replay_dead_letters(
        uow, body=body, principal=principal, now=runtime.clock.now()
    )
