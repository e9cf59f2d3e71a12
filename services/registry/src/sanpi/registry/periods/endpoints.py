"""HTTP routes of /v1/periods: create, read, hold and close the numbered 期."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse

from sanpi.events import PeriodStatus
from sanpi.kit import (
    Admin,
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    UnitOfWorkDep,
    run_idempotent,
)
from sanpi.registry.periods import repository, service
from sanpi.registry.periods.schemas import MAX_PERIOD, PeriodCreate, PeriodPublic

router = APIRouter(prefix="/periods", tags=["periods"])

PeriodNumber = Annotated[int, Path(ge=1, le=MAX_PERIOD, description="期 number: 7 = 第七期")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PeriodPublic)
async def create_period(
    body: PeriodCreate,
    principal: Admin,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Creates period N, open for declaration (sanpi.period.opened.v1); 409 if it exists."""

    async def create() -> tuple[PeriodPublic, dict[str, str]]:
        period = await service.create(uow, body=body, principal=principal)
        return PeriodPublic.model_validate(period), {"Location": f"/v1/periods/{period.number}"}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/periods",
        payload=body,
        action=create,
    )


@router.get("", response_model=Page[PeriodPublic])
async def list_periods(_principal: Authenticated, session: ReadSessionDep) -> Page[PeriodPublic]:
    """Every period in number order (a campaign holds four a year, so one page holds them all)."""
    rows = await repository.all_periods(session)
    return Page[PeriodPublic](items=[PeriodPublic.model_validate(p) for p in rows])


@router.get("/{number}", response_model=PeriodPublic)
async def get_period(
    number: PeriodNumber, _principal: Authenticated, session: ReadSessionDep
) -> PeriodPublic:
    return PeriodPublic.model_validate(await service.get(session, number))


@router.post("/{number}/hold", response_model=PeriodPublic)
async def hold_period(number: PeriodNumber, _principal: Admin, uow: UnitOfWorkDep) -> PeriodPublic:
    """The event took place (sanpi.period.held.v1)."""
    return PeriodPublic.model_validate(await service.move(uow, number=number, to=PeriodStatus.HELD))


@router.post("/{number}/close", response_model=PeriodPublic)
async def close_period(number: PeriodNumber, _principal: Admin, uow: UnitOfWorkDep) -> PeriodPublic:
    """Its lists are final (sanpi.period.closed.v1); listings into it are refused from now on."""
    return PeriodPublic.model_validate(
        await service.move(uow, number=number, to=PeriodStatus.CLOSED)
    )
