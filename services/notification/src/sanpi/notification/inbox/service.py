"""Inbox rules: the caller's delivered inbox notifications, rendered; acknowledgement of one."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import NotificationAcknowledged
from sanpi.kit import NotFound, Page, Principal, Role, UnitOfWork
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.notification.delivery import service as delivery_rules
from sanpi.notification.delivery.models import Delivery, DeliveryStatus
from sanpi.notification.inbox import repository
from sanpi.notification.inbox.schemas import InboxItem
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions.models import Channel


async def _item(session: AsyncSession, delivery: Delivery) -> InboxItem:
    subscription = await subscriptions.get(session, delivery.subscription_id)
    content = (
        await delivery_rules.content_of(session, delivery, subscription) if subscription else None
    )
    subject, text, event_ids = "", "", [delivery.event_id]
    if content is not None:
        _body, message, event_ids = content
        subject, text = message.subject, message.text
    return InboxItem(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        kind=delivery.kind,
        alert_key=delivery.alert_key,
        severity=delivery.severity,
        subject=subject,
        text=text,
        event_ids=event_ids,
        delivered_at=delivery.delivered_at,
        acknowledged_at=delivery.acknowledged_at,
        acknowledged_by=delivery.acknowledged_by,
    )


async def list_items(
    session: AsyncSession,
    *,
    principal: Principal,
    unacknowledged: bool,
    limit: int,
    cursor: str | None,
) -> Page[InboxItem]:
    """The caller's inbox (an admin sees every inbox), oldest first."""
    ids = None
    if principal.role is not Role.ADMIN:
        ids = await subscriptions.owned_ids(session, principal.subject, Channel.INBOX)
    rows = await repository.list_page(
        session,
        subscription_ids=ids,
        unacknowledged=unacknowledged,
        limit=limit + 1,
        after=created_key_after(cursor),
    )
    page, next_cursor = page_by_created(rows, limit, lambda d: (d.created_at, d.id))
    return Page[InboxItem](items=[await _item(session, d) for d in page], next_cursor=next_cursor)


async def acknowledge(
    uow: UnitOfWork, *, item_id: str, principal: Principal, now: dt.datetime
) -> InboxItem:
    """Marks one item read and handled; acknowledging twice keeps the first acknowledgement."""
    session = uow.session
    delivery = await repository.get(session, item_id)
    subscription = await subscriptions.get(session, delivery.subscription_id) if delivery else None
    if (
        delivery is None
        or subscription is None
        or delivery.status != DeliveryStatus.DELIVERED
        or (principal.role is not Role.ADMIN and subscription.owner != principal.subject)
    ):
        raise NotFound(refusals.NO_INBOX_ITEM(item_id=item_id))
    if delivery.acknowledged_at is None:
        delivery.acknowledged_at = now
        delivery.acknowledged_by = principal.subject
        repository.save(session, delivery)
        uow.publish(
            NotificationAcknowledged(
                subscription_id=subscription.id,
                channel=Channel.INBOX,
                alert_key=delivery.alert_key,
                notification_id=delivery.id,
                acknowledged_by=principal.subject,
                acknowledged_at=now,
            ),
        )
    return await _item(session, delivery)
