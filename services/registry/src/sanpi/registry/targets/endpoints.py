"""HTTP routes of /v1/targets: set and read annual targets per scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sanpi.kit import Authenticated, Page, ReadSessionDep, RuntimeDep, UnitOfWorkDep, Writer
from sanpi.registry.settings import settings_of
from sanpi.registry.targets import repository, service
from sanpi.registry.targets.schemas import TargetPublic, TargetSetRequest

router = APIRouter(prefix="/targets", tags=["targets"])


@router.post(
    "",
    response_model=TargetPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": TargetPublic, "description": "the target existed: value replaced"}},
)
async def set_target(
    body: TargetSetRequest,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
) -> TargetPublic:
    """Sets a target (201 when new, 200 when it replaced a value); emits sanpi.target.set.v1.
    Setting the same value again is harmless: the target is a value, not a counter."""
    settings = settings_of(runtime)
    target, created = await service.set_target(
        uow, body=body, principal=principal, district=settings.district, parks=settings.parks
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return TargetPublic.model_validate(target)


@router.get("", response_model=Page[TargetPublic])
async def list_targets(
    _principal: Authenticated,
    session: ReadSessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    scope: str | None = None,
) -> Page[TargetPublic]:
    """Targets by year and scope (a handful per year: one page holds them all)."""
    rows = await repository.find(session, year=year, scope=scope)
    return Page[TargetPublic](items=[TargetPublic.model_validate(t) for t in rows])
