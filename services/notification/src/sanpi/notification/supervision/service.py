"""督办 rules: an escalated red alert opens an item for its responsible unit's contact, due in
working days; the unit responds (整改说明), an official closes it (办结); an item still open at
its due time goes one level up the ladder with a new due time. Each step is an event."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    AlertRaised,
    SupervisionClosed,
    SupervisionOpened,
    SupervisionOverdue,
    SupervisionResponded,
)
from sanpi.kit import (
    Conflict,
    Database,
    Forbidden,
    NotFound,
    Principal,
    Role,
    UnitOfWork,
    decode_cursor,
    encode_cursor,
    pagination,
)
from sanpi.notification import metrics
from sanpi.notification.channels.templates import Kind
from sanpi.notification.contacts import service as contacts
from sanpi.notification.contacts.models import Contact
from sanpi.notification.delivery import service as delivery
from sanpi.notification.escalation import ladder
from sanpi.notification.escalation import repository as alerts
from sanpi.notification.escalation.models import AlertState
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions.models import Subscription
from sanpi.notification.supervision import messages as refusals
from sanpi.notification.supervision import repository
from sanpi.notification.supervision.models import ItemStatus, SupervisionItem
from sanpi.notification.supervision.schemas import StatusFilter, SupervisionItemPublic

OVERDUE_BATCH = 200
STATUSES: dict[StatusFilter, tuple[str, ...]] = {
    StatusFilter.ACTIVE: (ItemStatus.OPEN, ItemStatus.RESPONDED),
    StatusFilter.OPEN: (ItemStatus.OPEN,),
    StatusFilter.RESPONDED: (ItemStatus.RESPONDED,),
    StatusFilter.CLOSED: (ItemStatus.CLOSED,),
    StatusFilter.ALL: (ItemStatus.OPEN, ItemStatus.RESPONDED, ItemStatus.CLOSED),
}


def _common(item: SupervisionItem) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "alert_key": item.alert_key,
        "project_id": item.project_id,
        "park": item.park,
        "unit": item.unit,
    }


async def _contact_for_level(
    session: AsyncSession,
    level: int,
    state: AlertState,
    subscription: Subscription,
    settings: NotificationSettings,
) -> tuple[str, Contact | None]:
    """Who a level reaches (the ladder's name for it) and that name's entry in the book."""
    who = ladder.contact_for(
        level,
        subscription.escalation_contacts,
        responsible_unit=state.responsible_unit,
        sponsor_leader=state.sponsor_leader,
        district=settings.escalation_district_contact,
    )
    return who, await contacts.find(session, who, state.park)


def _send(
    uow: UnitOfWork,
    item: SupervisionItem,
    state: AlertState,
    subscription: Subscription,
    who: str,
    contact: Contact | None,
    *,
    now: dt.datetime,
) -> bool:
    """Queues the item's message to its contact: over the contact's reach, else — a ladder
    contact given as an e-mail address — by e-mail. False when no address can carry it."""
    channel: str
    target: str | None
    if contact is not None and (route := contacts.reach(contact, subscription.channel)):
        channel, target = str(route.channel), route.target
    elif ladder.is_address(who):
        channel, target = "email", who
    else:
        return False
    delivery.new_delivery(
        uow,
        subscription,
        kind=Kind.SUPERVISION,
        event_id=state.last_event_id,
        event_type=AlertRaised.TYPE,
        event_time=state.last_event_time,
        release=now,
        now=now,
        urgent=True,
        alert_key=state.alert_key,
        severity=state.severity,
        channel=channel,
        target=target,
        level=item.level,
        contact_id=contact.id if contact is not None else None,
        supervision_id=item.id,
    )
    return True


async def open_for(
    uow: UnitOfWork,
    state: AlertState,
    subscription: Subscription,
    *,
    level: int,
    red_since: dt.datetime,
    now: dt.datetime,
    settings: NotificationSettings,
) -> bool:
    """Opens the alert's item at its first escalation (one per red episode of the alert,
    whichever subscription escalated it first) and sends it to the unit's contact; a later
    ladder step only raises the level an unclosed item records. True when a message to the
    contact was queued (the ladder then sends no escalation e-mail of its own)."""
    existing = await repository.of_episode(uow.session, state.alert_key, red_since)
    if existing is not None:
        if level > existing.level and existing.status != ItemStatus.CLOSED:
            existing.level = level
            repository.add(uow.session, existing)
        return False
    who, contact = await _contact_for_level(uow.session, level, state, subscription, settings)
    item = SupervisionItem(
        alert_key=state.alert_key,
        subscription_id=subscription.id,
        project_id=state.project_id,
        park=state.park,
        unit=state.responsible_unit or (contact.unit if contact is not None else None),
        contact_id=contact.id if contact is not None else None,
        contact_name=contact.name if contact is not None else who,
        level=level,
        opened_at=now,
        due_at=settings.working_time.add(now, settings.supervision_due),
    )
    repository.add(uow.session, item)
    uow.publish(
        SupervisionOpened(
            **_common(item),
            contact_id=item.contact_id,
            contact_name=item.contact_name,
            level=level,
            opened_at=now,
            due_at=item.due_at,
        ),
    )
    metrics.SUPERVISION.labels("opened").inc()
    return _send(uow, item, state, subscription, who, contact, now=now)


async def get(session: AsyncSession, item_id: str) -> SupervisionItem:
    item = await repository.get(session, item_id)
    if item is None:
        raise NotFound(refusals.NO_ITEM(item_id=item_id))
    return item


def _ensure_can_act(item: SupervisionItem, principal: Principal) -> None:
    if item.park:
        principal.ensure_can_write_park(item.park)
    elif principal.role is not Role.ADMIN:
        raise Forbidden(refusals.DISTRICT_ITEM())


async def respond(
    uow: UnitOfWork,
    *,
    item_id: str,
    response: str,
    principal: Principal,
    now: dt.datetime,
) -> SupervisionItem:
    """The responsible unit's 整改说明 (write rights on the item's park). A second response
    before closure replaces the first; a closed item takes none (409)."""
    item = await get(uow.session, item_id)
    _ensure_can_act(item, principal)
    if item.status == ItemStatus.CLOSED:
        raise Conflict(refusals.CLOSED(item_id=item_id))
    item.status = ItemStatus.RESPONDED
    item.response = response
    item.responded_by = principal.subject
    item.responded_at = now
    item.version += 1
    repository.add(uow.session, item)
    uow.publish(
        SupervisionResponded(
            **_common(item), response=response, responded_by=principal.subject, responded_at=now
        ),
    )
    metrics.SUPERVISION.labels("responded").inc()
    return item


async def close(
    uow: UnitOfWork,
    *,
    item_id: str,
    note: str | None,
    principal: Principal,
    now: dt.datetime,
) -> SupervisionItem:
    """办结 by an official: an admin, or an operator of the item's park. Closing twice keeps
    the first closure."""
    item = await get(uow.session, item_id)
    _ensure_can_act(item, principal)
    if item.status == ItemStatus.CLOSED:
        return item
    item.status = ItemStatus.CLOSED
    item.closed_by = principal.subject
    item.closed_at = now
    item.close_note = note
    item.version += 1
    repository.add(uow.session, item)
    uow.publish(
        SupervisionClosed(**_common(item), closed_by=principal.subject, closed_at=now, note=note),
    )
    metrics.SUPERVISION.labels("closed").inc()
    return item


async def page(
    session: AsyncSession,
    *,
    status: StatusFilter,
    unit: str | None,
    parks: tuple[str, ...],
    limit: int,
    cursor: str | None,
    now: dt.datetime,
) -> tuple[list[SupervisionItemPublic], str | None]:
    after = None
    if cursor:
        position = decode_cursor(cursor)
        at, last = position.get("due"), position.get("id")
        if not isinstance(at, str) or not isinstance(last, str):
            raise pagination.bad_cursor()
        after = (dt.datetime.fromisoformat(at), last)
    rows = await repository.page(
        session, statuses=STATUSES[status], unit=unit, parks=parks, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"due": rows[-1].due_at.isoformat(), "id": rows[-1].id})
    states = await _states(session, [r.alert_key for r in rows])
    return [public(r, states.get(r.alert_key), now=now) for r in rows], next_cursor


async def _states(session: AsyncSession, keys: list[str]) -> dict[str, AlertState]:
    return await alerts.many(session, keys)


def public(
    item: SupervisionItem, state: AlertState | None, *, now: dt.datetime
) -> SupervisionItemPublic:
    data: dict[str, Any] = {}
    if state is not None:
        try:
            data = json.loads(state.last_payload).get("data") or {}
        except ValueError:
            data = {}
    return SupervisionItemPublic(
        id=item.id,
        alert_key=item.alert_key,
        rule=item.alert_key.split(":", 1)[0],
        project_id=item.project_id,
        project_name=data.get("project_name"),
        title=data.get("title"),
        title_en=data.get("title_en") or None,
        park=item.park,
        unit=item.unit,
        contact_id=item.contact_id,
        contact_name=item.contact_name,
        level=item.level,
        status=item.status,
        opened_at=item.opened_at,
        due_at=item.due_at,
        overdue=item.status == ItemStatus.OPEN and item.due_at <= now,
        overdue_count=item.overdue_count,
        response=item.response,
        responded_by=item.responded_by,
        responded_at=item.responded_at,
        closed_by=item.closed_by,
        closed_at=item.closed_at,
        close_note=item.close_note,
        version=item.version,
    )


async def public_one(
    session: AsyncSession, item: SupervisionItem, *, now: dt.datetime
) -> SupervisionItemPublic:
    states = await _states(session, [item.alert_key])
    return public(item, states.get(item.alert_key), now=now)


async def run_overdue(db: Database, *, now: dt.datetime, settings: NotificationSettings) -> int:
    """Re-escalates the open items past their due time, one level up (the district stays the
    top), with a new due time as long as the first; returns how many."""
    async with db.transaction() as uow:
        session = uow.session
        due = await repository.overdue(session, now, OVERDUE_BATCH)
        for item in due:
            was_due = item.due_at
            item.overdue_count += 1
            item.level = min(item.level + 1, ladder.TOP_LEVEL)
            # From now, not from the missed due time: a service that was down re-escalates once.
            item.due_at = settings.working_time.add(now, settings.supervision_due)
            item.version += 1
            state = await alerts.get(session, item.alert_key)
            subscription = await subscriptions.get(session, item.subscription_id)
            if state is not None and subscription is not None:
                who, contact = await _contact_for_level(
                    session, item.level, state, subscription, settings
                )
                item.contact_id = contact.id if contact is not None else None
                item.contact_name = contact.name if contact is not None else who
                _send(uow, item, state, subscription, who, contact, now=now)
            repository.add(session, item)
            uow.publish(
                SupervisionOverdue(
                    **_common(item),
                    level=item.level,
                    contact_id=item.contact_id,
                    contact_name=item.contact_name,
                    was_due_at=was_due,
                    due_at=item.due_at,
                    overdue_count=item.overdue_count,
                ),
            )
            metrics.SUPERVISION.labels("overdue").inc()
        return len(due)
