"""Every SQL statement about deliveries and attempts."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus


async def exists(session: AsyncSession, subscription_id: str, event_id: str) -> bool:
    stmt = select(Delivery.id).where(
        Delivery.subscription_id == subscription_id, Delivery.event_id == event_id
    )
    return (await session.exec(stmt)).first() is not None


def add(session: AsyncSession, row: Delivery | DeliveryAttempt) -> None:
    session.add(row)


async def get(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def due(session: AsyncSession, *, now: dt.datetime, limit: int) -> list[Delivery]:
    """Pending deliveries whose next attempt is due, oldest first, locked against other workers
    on PostgreSQL (SKIP LOCKED); SQLite's BEGIN IMMEDIATE already serialises the claim."""
    stmt = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, col(Delivery.next_attempt_at) <= now)
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(stmt)).all())


async def list_page(
    session: AsyncSession,
    *,
    subscription_ids: list[str] | None,
    limit: int,
    after: CreatedKey | None,
) -> list[Delivery]:
    stmt = select(Delivery)
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    stmt = stmt.where(after_created(col(Delivery.created_at), col(Delivery.id), after))
    stmt = stmt.order_by(col(Delivery.created_at), col(Delivery.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def attempts_of(session: AsyncSession, delivery_ids: list[str]) -> list[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryAttempt.delivery_id), col(DeliveryAttempt.number))
    )
    return list((await session.exec(stmt)).all())
