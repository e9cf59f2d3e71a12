"""HTTP routes of listings: put a project on period N's 签约/开工/投产 list; read the lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from sanpi.events import BatchType
from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    UnitOfWorkDep,
    Writer,
    run_idempotent,
)
from sanpi.registry.listings import repository, service
from sanpi.registry.listings.schemas import ListingCreate, ListingPublic
from sanpi.registry.periods.schemas import MAX_PERIOD

router = APIRouter(tags=["listings"])


@router.post(
    "/projects/{project_id}/listings",
    status_code=status.HTTP_201_CREATED,
    response_model=ListingPublic,
)
async def add_listing(
    project_id: str,
    body: ListingCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Lists the project on period N's batch (sanpi.project.listed.v1). A PRODUCE listing needs an
    earlier START listing (its source_period) or a started project; 409 otherwise."""

    async def add() -> tuple[ListingPublic, dict[str, str]]:
        listing = await service.add_listing(
            uow, project_id=project_id, body=body, principal=principal
        )
        return ListingPublic.model_validate(listing), {}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope=f"POST /v1/projects/{project_id}/listings",
        payload=body,
        action=add,
    )


@router.get("/projects/{project_id}/listings", response_model=list[ListingPublic])
async def project_listings(
    project_id: str, _principal: Authenticated, session: ReadSessionDep
) -> list[ListingPublic]:
    """The project's listings, by period (at most one per batch)."""
    return [
        ListingPublic.model_validate(r) for r in await repository.of_project(session, project_id)
    ]


@router.get("/listings", response_model=Page[ListingPublic])
async def list_listings(
    _principal: Authenticated,
    session: ReadSessionDep,
    period: Annotated[int | None, Query(ge=1, le=MAX_PERIOD)] = None,
    batch: BatchType | None = None,
    park: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ListingPublic]:
    """Listings in (period, batch, project) order, e.g. ?period=7&batch=SIGN for 第七期签约一批."""
    return await service.list_page(
        session, period=period, batch=batch, park=park, limit=limit, cursor=cursor
    )
