"""Delivery rules: fan an event out to matching subscriptions, claim due attempts, record results."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent
from sanpi.kit import Database, Page, Principal, Role
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.notification.channels.webhook import AttemptResult
from sanpi.notification.delivery import repository
from sanpi.notification.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from sanpi.notification.delivery.schemas import AttemptPublic, DeliveryPublic
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions import service as subscription_rules

# Marks a session that created deliveries, so that the worker wakes when it commits.
DELIVERIES_PENDING = "deliveries_pending"


async def fan_out(session: AsyncSession, event: CloudEvent) -> int:
    """Creates one pending delivery per matching active subscription; returns how many."""
    created = 0
    for subscription in await subscriptions.active(session):
        if not subscription_rules.matches(subscription, event.type):
            continue
        # The inbox already drops redelivered records; this also covers a rebuilt inbox.
        if await repository.exists(session, subscription.id, event.id):
            continue
        repository.add(
            session,
            Delivery(
                subscription_id=subscription.id,
                event_id=event.id,
                event_type=event.type,
                event_time=event.time,
                payload=event.model_dump_json(exclude_none=True),
            ),
        )
        created += 1
    if created:
        session.info[DELIVERIES_PENDING] = True
    return created


@dataclass(frozen=True)
class Claimed:
    """A delivery attempt this worker owns until its lease ends."""

    delivery_id: str
    attempt: int
    url: str
    secret: str
    payload: str


async def claim_due(db: Database, *, now: dt.datetime, limit: int, lease_s: float) -> list[Claimed]:
    """Takes up to `limit` due deliveries and pushes their next attempt a lease away, so that a
    worker that dies mid-send leaves them to be retried, not lost."""
    claimed: list[Claimed] = []
    async with db.transaction() as session:
        for delivery in await repository.due(session, now=now, limit=limit):
            subscription = await subscriptions.get(session, delivery.subscription_id)
            if subscription is None or not subscription.active or not subscription.url:
                delivery.status = DeliveryStatus.DEAD
                delivery.last_error = "subscription deleted or disabled"
                session.add(delivery)
                continue
            delivery.attempts += 1
            delivery.next_attempt_at = now + dt.timedelta(seconds=lease_s)
            session.add(delivery)
            claimed.append(
                Claimed(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    url=subscription.url,
                    secret=subscription.secret or "",
                    payload=delivery.payload,
                )
            )
    return claimed


def retry_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    retry_after_s: float | None,
    rng: random.Random,
) -> float:
    """Exponential backoff with jitter (half to all of base·2^(n-1)); Retry-After is a floor."""
    exponential = min(max_s, base_s * float(2 ** (attempt - 1)))
    delay = exponential * rng.uniform(0.5, 1.0)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, max_s))
    return delay


async def record_result(
    db: Database,
    claimed: Claimed,
    result: AttemptResult,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> DeliveryStatus:
    """Logs the attempt and decides: delivered, retry later, or dead (410 disables the subscription)."""
    async with db.transaction() as session:
        delivery = await repository.get(session, claimed.delivery_id)
        if delivery is None:
            return DeliveryStatus.DEAD
        repository.add(
            session,
            DeliveryAttempt(
                delivery_id=delivery.id,
                number=claimed.attempt,
                at=now,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
            ),
        )
        if result.delivered:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = None
        elif result.status_code == 410:
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = "HTTP 410 Gone: the subscription was disabled"
            subscription = await subscriptions.get(session, delivery.subscription_id)
            if subscription is not None:
                subscription.active = False
                subscription.disabled_reason = "receiver answered 410 Gone"
                subscription.updated_at = now
                session.add(subscription)
        elif claimed.attempt >= settings.delivery_max_attempts:
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = result.error
        else:
            delivery.last_error = result.error
            delivery.next_attempt_at = now + dt.timedelta(
                seconds=retry_delay(
                    claimed.attempt,
                    base_s=settings.delivery_backoff_base_s,
                    max_s=settings.delivery_backoff_max_s,
                    retry_after_s=result.retry_after_s,
                    rng=rng,
                )
            )
        session.add(delivery)
        return delivery.status


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    subscription_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryPublic]:
    """Deliveries of the caller's subscriptions (or of one), each with its attempt log."""
    if subscription_id is not None:
        await subscription_rules.get_owned(
            session, subscription_id=subscription_id, principal=principal
        )
        ids: list[str] | None = [subscription_id]
    elif principal.role is Role.ADMIN:
        ids = None
    else:
        owned = await subscriptions.list_page(
            session, owner=principal.subject, limit=10_000, after=None
        )
        ids = [s.id for s in owned]
    rows = await repository.list_page(
        session, subscription_ids=ids, limit=limit + 1, after=created_key_after(cursor)
    )
    page, next_cursor = page_by_created(rows, limit, lambda d: (d.created_at, d.id))
    attempts = await repository.attempts_of(session, [d.id for d in page])
    by_delivery: dict[str, list[AttemptPublic]] = {}
    for a in attempts:
        by_delivery.setdefault(a.delivery_id, []).append(AttemptPublic.model_validate(a))
    items = [
        DeliveryPublic.model_validate(d).model_copy(
            update={"attempt_log": by_delivery.get(d.id, [])}
        )
        for d in page
    ]
    return Page[DeliveryPublic](items=items, next_cursor=next_cursor)
