"""Every SQL statement about 督办 items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.supervision.models import ItemStatus, SupervisionItem


def add(session: AsyncSession, item: SupervisionItem) -> None:
    session.add(item)


async def get(session: AsyncSession, item_id: str) -> SupervisionItem | None:
    return await session.get(SupervisionItem, item_id)


async def many(session: AsyncSession, ids: Iterable[str]) -> dict[str, SupervisionItem]:
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(SupervisionItem).where(col(SupervisionItem.id).in_(wanted))
    return {i.id: i for i in (await session.exec(stmt)).all()}


async def of_episode(
    session: AsyncSession, alert_key: str, since: dt.datetime
) -> SupervisionItem | None:
    """The alert's item opened since its red episode began, closed or not."""
    stmt = (
        select(SupervisionItem)
        .where(SupervisionItem.alert_key == alert_key, col(SupervisionItem.opened_at) >= since)
        .order_by(col(SupervisionItem.opened_at).desc())
    )
    return (await session.exec(stmt)).first()


async def overdue(session: AsyncSession, now: dt.datetime, limit: int) -> list[SupervisionItem]:
    stmt = (
        select(SupervisionItem)
        .where(SupervisionItem.status == ItemStatus.OPEN, col(SupervisionItem.due_at) <= now)
        .order_by(col(SupervisionItem.due_at), col(SupervisionItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(stmt)).all())


async def page(
    session: AsyncSession,
    *,
    statuses: tuple[str, ...],
    unit: str | None,
    parks: tuple[str, ...],
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> list[SupervisionItem]:
    """Items soonest due first, strictly after `after` (due time, id)."""
    stmt = select(SupervisionItem).where(col(SupervisionItem.status).in_(statuses))
    if unit is not None:
        stmt = stmt.where(SupervisionItem.unit == unit)
    if parks:
        stmt = stmt.where(col(SupervisionItem.park).in_(parks))
    if after is not None:
        at, last = after
        stmt = stmt.where(
            or_(
                col(SupervisionItem.due_at) > at,
                and_(col(SupervisionItem.due_at) == at, col(SupervisionItem.id) > last),
            )
        )
    stmt = stmt.order_by(col(SupervisionItem.due_at), col(SupervisionItem.id)).limit(limit)
    return list((await session.exec(stmt)).all())
