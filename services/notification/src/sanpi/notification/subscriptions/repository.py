"""Every SQL statement about subscriptions."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.subscriptions.models import Channel, Subscription


def add(session: AsyncSession, subscription: Subscription) -> None:
    session.add(subscription)


async def get(session: AsyncSession, subscription_id: str) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    await session.delete(subscription)


async def active_queued(session: AsyncSession) -> list[Subscription]:
    """Active subscriptions of the channels that queue deliveries (all but the live stream)."""
    stmt = select(Subscription).where(
        col(Subscription.active).is_(True), Subscription.channel != Channel.STREAM
    )
    return list((await session.exec(stmt)).all())


async def owned_ids(session: AsyncSession, owner: str, channel: Channel | None = None) -> list[str]:
    stmt = select(Subscription.id).where(Subscription.owner == owner)
    if channel is not None:
        stmt = stmt.where(Subscription.channel == channel)
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
