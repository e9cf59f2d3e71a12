"""Every SQL statement about subscriptions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Table, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.bulk import update_by_id
from sanpi.notification.subscriptions.models import Channel, Subscription

SUBSCRIPTION: Table = Subscription.__table__  # type: ignore[attr-defined]


class SubscriptionRow(NamedTuple):
    """What routing and delivery read of a subscription, selected without the ORM: hydrating
    Subscription objects (eight JSON columns) cost more than the rest of a fan-out (profiled)."""

    id: str
    owner: str
    channel: str
    url: str | None
    email: str | None
    secret: str | None
    previous_secret: str | None
    previous_secret_expires_at: dt.datetime | None
    event_types: list[str]
    min_severity: str | None
    parks: list[str]
    chain_tags: list[str]
    categories: list[str]
    periods: list[int]
    project_ids: list[str]
    min_investment: int | None
    quiet_start: str | None
    quiet_end: str | None
    language: str
    active: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    created_at: dt.datetime
    mention_mobiles: list[str]
    last_error: str | None


SUBSCRIPTION_ROW = [SUBSCRIPTION.c[name] for name in SubscriptionRow._fields]


def add(session: AsyncSession, subscription: Subscription) -> None:
    session.add(subscription)


async def get(session: AsyncSession, subscription_id: str) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    await session.delete(subscription)


async def active_queued(session: AsyncSession) -> list[SubscriptionRow]:
    """Active subscriptions of the channels that queue deliveries (all but the live stream),
    except those whose digest replaces the immediate messages."""
    stmt = select(*SUBSCRIPTION_ROW).where(
        SUBSCRIPTION.c.active.is_(True),
        SUBSCRIPTION.c.channel != Channel.STREAM,
        SUBSCRIPTION.c.digest_instead_of_immediate.is_(False),
    )
    return [SubscriptionRow(*row) for row in await session.exec(stmt)]


async def with_digest(session: AsyncSession) -> list[Subscription]:
    """Active subscriptions that asked for a digest (few: read whole)."""
    stmt = select(Subscription).where(
        col(Subscription.active).is_(True),
        or_(
            col(Subscription.digest_daily_at).is_not(None),
            col(Subscription.digest_xun_at).is_not(None),
        ),
    )
    return list((await session.exec(stmt)).all())


async def rows_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, SubscriptionRow]:
    """The subscriptions among `ids` that exist, in one query."""
    if not ids:
        return {}
    stmt = select(*SUBSCRIPTION_ROW).where(SUBSCRIPTION.c.id.in_(set(ids)))
    return {row.id: row for row in (SubscriptionRow(*r) for r in await session.exec(stmt))}


async def set_health(session: AsyncSession, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Writes failure tracking (and disabling) of several subscriptions."""
    await update_by_id(session, SUBSCRIPTION, changes)


async def stored_secrets(session: AsyncSession) -> list[tuple[str, str | None, str | None]]:
    """(id, secret, previous_secret) of every subscription that holds a secret."""
    stmt = select(SUBSCRIPTION.c.id, SUBSCRIPTION.c.secret, SUBSCRIPTION.c.previous_secret).where(
        or_(SUBSCRIPTION.c.secret.is_not(None), SUBSCRIPTION.c.previous_secret.is_not(None))
    )
    return [(row[0], row[1], row[2]) for row in await session.exec(stmt)]


async def replace_secret(
    session: AsyncSession, subscription_id: str, column: str, old: str, new: str
) -> bool:
    """Sets `column` to `new` if it still holds `old` (a rotation meanwhile wins)."""
    stmt = (
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id == subscription_id, SUBSCRIPTION.c[column] == old)
        .values({column: new})
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)


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
