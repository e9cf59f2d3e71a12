"""Every SQL statement about alert states and their per-subscription timers."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.escalation.models import AlertFollow, AlertState


async def get(session: AsyncSession, alert_key: str) -> AlertState | None:
    return await session.get(AlertState, alert_key)


def save(session: AsyncSession, row: AlertState | AlertFollow) -> None:
    session.add(row)


async def follow_of(
    session: AsyncSession, subscription_id: str, alert_key: str
) -> AlertFollow | None:
    stmt = select(AlertFollow).where(
        AlertFollow.subscription_id == subscription_id, AlertFollow.alert_key == alert_key
    )
    return (await session.exec(stmt)).first()


async def follows_of(session: AsyncSession, alert_key: str) -> list[AlertFollow]:
    stmt = select(AlertFollow).where(AlertFollow.alert_key == alert_key)
    return list((await session.exec(stmt)).all())


async def due_follows(session: AsyncSession, now: dt.datetime, limit: int) -> list[AlertFollow]:
    stmt = (
        select(AlertFollow)
        .where(
            or_(
                col(AlertFollow.next_repeat_at) <= now,
                col(AlertFollow.next_escalation_at) <= now,
            )
        )
        .order_by(col(AlertFollow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(stmt)).all())


async def delete_follow(session: AsyncSession, follow: AlertFollow) -> None:
    await session.delete(follow)


async def delete_follows_of(session: AsyncSession, alert_key: str) -> None:
    await session.exec(delete(AlertFollow).where(col(AlertFollow.alert_key) == alert_key))
