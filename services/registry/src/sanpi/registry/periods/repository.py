"""Every SQL statement about periods."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.registry.periods.models import Period


async def get(session: AsyncSession, number: int) -> Period | None:
    return await session.get(Period, number)


def save(session: AsyncSession, period: Period) -> None:
    session.add(period)


async def all_periods(session: AsyncSession) -> list[Period]:
    return list((await session.exec(select(Period).order_by(col(Period.number)))).all())


async def neighbours(session: AsyncSession, number: int) -> tuple[Period | None, Period | None]:
    """The closest periods before and after `number`."""
    before = (
        await session.exec(
            select(Period).where(col(Period.number) < number).order_by(col(Period.number).desc())
        )
    ).first()
    after = (
        await session.exec(
            select(Period).where(col(Period.number) > number).order_by(col(Period.number))
        )
    ).first()
    return before, after
