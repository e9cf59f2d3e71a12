"""Every SQL statement about inbox items (the delivered notifications of inbox subscriptions)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.delivery.models import Delivery, DeliveryStatus
from sanpi.notification.subscriptions.models import Channel


async def list_page(
    session: AsyncSession,
    *,
    subscription_ids: list[str] | None,
    unacknowledged: bool,
    limit: int,
    after: CreatedKey | None,
) -> list[Delivery]:
    stmt = select(Delivery).where(
        Delivery.channel == Channel.INBOX, Delivery.status == DeliveryStatus.DELIVERED
    )
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    if unacknowledged:
        stmt = stmt.where(col(Delivery.acknowledged_at).is_(None))
    stmt = stmt.where(after_created(col(Delivery.created_at), col(Delivery.id), after))
    stmt = stmt.order_by(col(Delivery.created_at), col(Delivery.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def get(session: AsyncSession, delivery_id: str) -> Delivery | None:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.channel != Channel.INBOX:
        return None
    return delivery


def save(session: AsyncSession, delivery: Delivery) -> None:
    session.add(delivery)
