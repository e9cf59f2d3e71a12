"""HTTP routes of /v1/supervision: 督办 items by unit and park, the response and the closure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
)
from sanpi.notification.supervision import service
from sanpi.notification.supervision.schemas import (
    CloseRequest,
    RespondRequest,
    StatusFilter,
    SupervisionItemPublic,
    SupervisionPage,
)

router = APIRouter(prefix="/supervision", tags=["supervision"])


@router.get("", response_model=SupervisionPage)
async def list_items(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    status: StatusFilter = StatusFilter.ACTIVE,
    unit: Annotated[str | None, Query(min_length=1, max_length=200, description="责任单位")] = None,
    park: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=64)]] | None,
        Query(description="any of these parks (repeat the parameter)", max_length=100),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> SupervisionPage:
    """督办 items, soonest due first: by default those not closed yet (`status=active`);
    `overdue` marks an open one past its due time."""
    items, next_cursor = await service.page(
        session,
        status=status,
        unit=unit,
        parks=tuple(park or ()),
        limit=limit,
        cursor=cursor,
        now=runtime.clock.now(),
    )
    return SupervisionPage(items=items, next_cursor=next_cursor)


@router.get("/{item_id}", response_model=SupervisionItemPublic)
async def get_item(
    item_id: str, _principal: Authenticated, session: ReadSessionDep, runtime: RuntimeDep
) -> SupervisionItemPublic:
    item = await service.get(session, item_id)
    return await service.public_one(session, item, now=runtime.clock.now())


@router.post("/{item_id}/respond", response_model=SupervisionItemPublic)
async def respond(
    item_id: str,
    body: RespondRequest,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> SupervisionItemPublic:
    """The responsible unit's 整改说明 (write rights on the item's park; a district item: admin).
    It stops the item going overdue; an official closes it. 409 once closed."""
    now = runtime.clock.now()
    item = await service.respond(
        uow, item_id=item_id, response=body.response, principal=principal, now=now
    )
    return await service.public_one(uow.session, item, now=now)


@router.post("/{item_id}/close", response_model=SupervisionItemPublic)
async def close(
    item_id: str,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    body: CloseRequest | None = None,
) -> SupervisionItemPublic:
    """办结: an official (write rights on the item's park; a district item: admin) closes the
    item, with an optional note. Closing twice keeps the first closure."""
    now = runtime.clock.now()
    item = await service.close(
        uow,
        item_id=item_id,
        note=body.note if body is not None and body.note else None,
        principal=principal,
        now=now,
    )
    return await service.public_one(uow.session, item, now=now)
