"""Period rules: create (period.opened), hold (period.held), close (period.closed). Never commits."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import PeriodClosed, PeriodEvent, PeriodHeld, PeriodOpened, PeriodStatus
from sanpi.kit import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    Principal,
    UnitOfWork,
    utcnow,
)
from sanpi.registry.periods import messages as refusals
from sanpi.registry.periods import repository
from sanpi.registry.periods.models import Period
from sanpi.registry.periods.schemas import PeriodCreate


def quarter_of(day: dt.date) -> str:
    """2023-01-28 → 2023Q1."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _event(period: Period, kind: type[PeriodEvent]) -> PeriodEvent:
    return kind(
        period=period.number,
        event_date=period.event_date,
        quarter=period.quarter,
        status=period.status,
    )


async def create(uow: UnitOfWork, *, body: PeriodCreate, principal: Principal) -> Period:
    """A new period, open for declaration; its event date must fall between its neighbours'."""
    if await repository.get(uow.session, body.number) is not None:
        raise Conflict(refusals.PERIOD_EXISTS(number=body.number), period=body.number)
    quarter = quarter_of(body.event_date)
    if body.quarter is not None and body.quarter != quarter:
        raise InvalidInput(
            refusals.QUARTER_MISMATCH(quarter=body.quarter, day=body.event_date),
            errors=[FieldProblem("quarter", refusals.QUARTER_IS(quarter=quarter))],
        )
    before, after = await repository.neighbours(uow.session, body.number)
    if before is not None and body.event_date <= before.event_date:
        raise InvalidInput(
            refusals.DATE_ORDER(),
            errors=[
                FieldProblem(
                    "event_date",
                    refusals.AFTER_PERIOD(number=before.number, day=before.event_date),
                )
            ],
        )
    if after is not None and body.event_date >= after.event_date:
        raise InvalidInput(
            refusals.DATE_ORDER(),
            errors=[
                FieldProblem(
                    "event_date",
                    refusals.BEFORE_PERIOD(number=after.number, day=after.event_date),
                )
            ],
        )
    period = Period(
        number=body.number,
        event_date=body.event_date,
        quarter=quarter,
        created_by=principal.subject,
    )
    repository.save(uow.session, period)
    uow.publish(_event(period, PeriodOpened))
    return period


async def get(session: AsyncSession, number: int) -> Period:
    period = await repository.get(session, number)
    if period is None:
        raise NotFound(refusals.NO_PERIOD(number=number))
    return period


async def move(uow: UnitOfWork, *, number: int, to: PeriodStatus) -> Period:
    """HELD (the event took place) or CLOSED (its lists are final); each once, forward only."""
    period = await get(uow.session, number)
    allowed = {
        PeriodStatus.HELD: (PeriodStatus.PLANNED, PeriodStatus.OPEN_FOR_DECLARATION),
        PeriodStatus.CLOSED: (
            PeriodStatus.PLANNED,
            PeriodStatus.OPEN_FOR_DECLARATION,
            PeriodStatus.HELD,
        ),
    }[to]
    if period.status not in allowed:
        raise Conflict(refusals.NO_SUCH_MOVE(number=number, status=period.status, to=to))
    period.status = to
    period.updated_at = utcnow()
    repository.save(uow.session, period)
    uow.publish(_event(period, PeriodHeld if to is PeriodStatus.HELD else PeriodClosed))
    return period
