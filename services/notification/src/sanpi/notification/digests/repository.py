"""Every SQL statement about digests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import Severity
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.kit.retention import Retained, by_age
from sanpi.notification.digests.models import DigestBulletin, DigestSent
from sanpi.notification.escalation.models import AlertState


def add(session: AsyncSession, row: DigestSent | DigestBulletin) -> None:
    session.add(row)


async def bulletin(session: AsyncSession, period: str) -> DigestBulletin | None:
    """The stored bulletin of a 旬 (2023-03-X2), None before its digests fetched it."""
    return await session.get(DigestBulletin, period)


async def latest_sent(session: AsyncSession) -> dict[tuple[str, str], DigestSent]:
    """The latest digest of each (subscription, kind), in one query."""
    newest = (
        select(
            col(DigestSent.subscription_id).label("subscription_id"),
            col(DigestSent.kind).label("kind"),
            func.max(DigestSent.due_at).label("due_at"),
        )
        .group_by(col(DigestSent.subscription_id), col(DigestSent.kind))
        .subquery()
    )
    stmt = select(DigestSent).join(
        newest,
        and_(
            col(DigestSent.subscription_id) == newest.c.subscription_id,
            col(DigestSent.kind) == newest.c.kind,
            col(DigestSent.due_at) == newest.c.due_at,
        ),
    )
    return {(row.subscription_id, row.kind): row for row in (await session.exec(stmt)).all()}


async def red_or_ended_since(session: AsyncSession, since: dt.datetime) -> list[AlertState]:
    """Alerts red now, and those whose red spell ended after `since`."""
    stmt = select(AlertState).where(
        or_(
            and_(col(AlertState.firing).is_(True), col(AlertState.severity) == Severity.RED.value),
            col(AlertState.red_ended_at) > since,
        )
    )
    return list((await session.exec(stmt)).all())


async def page(
    session: AsyncSession, *, subscription_id: str, limit: int, after: CreatedKey | None
) -> list[DigestSent]:
    """A subscription's digests, oldest first."""
    stmt = (
        select(DigestSent)
        .where(DigestSent.subscription_id == subscription_id)
        .where(after_created(col(DigestSent.created_at), col(DigestSent.id), after))
        .order_by(col(DigestSent.created_at), col(DigestSent.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


def retained(keep_s: float) -> list[Retained]:
    """The digests sent and the bulletins kept for them, pruned with the delivery log (a digest
    row is what its delivery was made from; a bulletin is kept for an e-mail's retries). The
    newest digest of each subscription and kind always stays: the next one's window starts where
    it ended, and without it the next digest would reach back to the subscription's creation."""
    sent = DigestSent.__table__  # type: ignore[attr-defined]
    newer = sent.alias("newer")
    not_newest = sent.c.due_at < (
        select(func.max(newer.c.due_at))
        .where(newer.c.subscription_id == sent.c.subscription_id, newer.c.kind == sent.c.kind)
        .scalar_subquery()
    )
    # No index on the times: a district's digests are a few per subscription and day, and the
    # pruner's statement runs every few minutes.
    stored = DigestBulletin.__table__  # type: ignore[attr-defined]
    return [
        by_age("digests", keep_s, sent, sent.c.created_at, [sent.c.id], where=not_newest),
        by_age("digest_bulletins", keep_s, stored, stored.c.fetched_at, [stored.c.period]),
    ]
