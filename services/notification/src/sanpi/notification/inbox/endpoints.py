"""HTTP routes of the inbox: GET /v1/inbox, POST /v1/inbox/{id}/ack."""

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
from sanpi.notification.inbox import service
from sanpi.notification.inbox.schemas import InboxItem

router = APIRouter(prefix="/inbox", tags=["inbox"])


@router.get("", response_model=Page[InboxItem])
async def list_inbox(
    principal: Authenticated,
    session: ReadSessionDep,
    unacknowledged: Annotated[bool, Query(description="only items not acknowledged yet")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[InboxItem]:
    """Notifications of the caller's inbox subscriptions, in their language, oldest first."""
    return await service.list_items(
        session, principal=principal, unacknowledged=unacknowledged, limit=limit, cursor=cursor
    )


@router.post("/{item_id}/ack", response_model=InboxItem)
async def acknowledge_item(
    item_id: str, principal: Authenticated, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> InboxItem:
    """Acknowledges one inbox item (not the alert itself: that is POST /v1/alerts/{key}/ack)."""
    return await service.acknowledge(
        uow, item_id=item_id, principal=principal, now=runtime.clock.now()
    )
