"""Every SQL statement about deliveries, the events they carry, and their attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.delivery.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryStatus,
)


async def event_routed(session: AsyncSession, subscription_id: str, event_id: str) -> bool:
    stmt = select(DeliveryEvent.id).where(
        DeliveryEvent.subscription_id == subscription_id, DeliveryEvent.event_id == event_id
    )
    return (await session.exec(stmt)).first() is not None


def add(session: AsyncSession, row: Delivery | DeliveryEvent | DeliveryAttempt) -> None:
    session.add(row)


async def get(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def open_group(
    session: AsyncSession, subscription_id: str, group_key: str
) -> Delivery | None:
    """The group delivery still collecting events (not yet attempted), locked so that a worker
    cannot claim it while an event joins it (PostgreSQL; SQLite serialises writers anyway)."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.subscription_id == subscription_id,
            Delivery.group_key == group_key,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.attempts == 0,
        )
        .with_for_update()
    )
    return (await session.exec(stmt)).first()


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


async def events_of(session: AsyncSession, delivery_id: str) -> list[DeliveryEvent]:
    stmt = (
        select(DeliveryEvent)
        .where(DeliveryEvent.delivery_id == delivery_id)
        .order_by(col(DeliveryEvent.id))
    )
    return list((await session.exec(stmt)).all())


async def event_ids_of(session: AsyncSession, delivery_ids: list[str]) -> dict[str, list[str]]:
    stmt = (
        select(DeliveryEvent.delivery_id, DeliveryEvent.event_id)
        .where(col(DeliveryEvent.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryEvent.id))
    )
    found: dict[str, list[str]] = {}
    for delivery_id, event_id in (await session.exec(stmt)).all():
        found.setdefault(delivery_id, []).append(event_id)
    return found


async def cancel_unsent_of_alert(session: AsyncSession, alert_key: str, reason: str) -> None:
    """Cancels the notifications about one alert that have not been attempted yet."""
    await session.exec(
        update(Delivery)
        .where(
            col(Delivery.alert_key) == alert_key,
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.attempts) == 0,
        )
        .values(status=DeliveryStatus.CANCELLED, last_error=reason)
    )


async def list_page(
    session: AsyncSession,
    *,
    subscription_ids: list[str] | None,
    status: DeliveryStatus | None,
    limit: int,
    after: CreatedKey | None,
) -> list[Delivery]:
    stmt = select(Delivery)
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    stmt = stmt.where(after_created(col(Delivery.created_at), col(Delivery.id), after))
    stmt = stmt.order_by(col(Delivery.created_at), col(Delivery.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def dead_letters(
    session: AsyncSession, *, subscription_ids: list[str] | None, delivery_ids: list[str] | None
) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    if delivery_ids is not None:
        stmt = stmt.where(col(Delivery.id).in_(delivery_ids))
    return list((await session.exec(stmt.order_by(col(Delivery.created_at)))).all())


async def attempts_of(session: AsyncSession, delivery_ids: list[str]) -> list[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryAttempt.delivery_id), col(DeliveryAttempt.number))
    )
    return list((await session.exec(stmt)).all())


async def queue_figures(session: AsyncSession) -> tuple[int, int, int]:
    """(pending, pending after at least one failure, dead letters), for the gauges."""
    pending = select(func.count()).where(Delivery.status == DeliveryStatus.PENDING)
    retrying = pending.where(col(Delivery.attempts) > col(Delivery.attempts_before_replay))
    dead = select(func.count()).where(Delivery.status == DeliveryStatus.DEAD)
    return (
        (await session.exec(pending)).one(),
        (await session.exec(retrying)).one(),
        (await session.exec(dead)).one(),
    )
