"""Every SQL statement about subscriptions."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.subscriptions.models import Subscription


def add(session: AsyncSession, subscription: Subscription) -> None:
    session.add(subscription)


async def get(session: AsyncSession, subscription_id: str) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    await session.delete(subscription)


async def active(session: AsyncSession) -> list[Subscription]:
    stmt = select(Subscription).where(col(Subscription.active).is_(True))
    return list((await session.exec(stmt)).all())


async def list_page(
    session: AsyncSession, *, owner: str | None, limit: int, after: CreatedKey | None
) -> list[Subscription]:
    stmt = select(Subscription)
    if owner is not None:
        stmt = stmt.where(Subscription.owner == owner)
    stmt = stmt.where(after_created(col(Subscription.created_at), col(Subscription.id), after))
    stmt = stmt.order_by(col(Subscription.created_at), col(Subscription.id)).limit(limit)
    return list((await session.exec(stmt)).all())
