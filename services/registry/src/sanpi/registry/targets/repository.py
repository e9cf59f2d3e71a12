"""Every SQL statement about targets."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import TargetKind
from sanpi.registry.targets.models import Target


async def get(session: AsyncSession, year: int, scope: str, kind: TargetKind) -> Target | None:
    return await session.get(Target, (year, scope, kind))


def save(session: AsyncSession, target: Target) -> None:
    session.add(target)


async def find(session: AsyncSession, *, year: int | None, scope: str | None) -> list[Target]:
    stmt = select(Target)
    if year is not None:
        stmt = stmt.where(col(Target.year) == year)
    if scope is not None:
        stmt = stmt.where(col(Target.scope) == scope)
    stmt = stmt.order_by(col(Target.year), col(Target.scope), col(Target.kind))
    return list((await session.exec(stmt)).all())
