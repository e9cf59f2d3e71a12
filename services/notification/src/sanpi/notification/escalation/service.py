"""Escalation rules: alert state from alert events, acknowledgement, and the timers of red alerts
(repeat at an interval, climb the ladder after configured delays) read from the runtime clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    SEVERITY_ORDER,
    AlertEvent,
    AlertRaised,
    AlertResolved,
    CloudEvent,
    NotificationAcknowledged,
    NotificationEscalated,
    Severity,
)
from sanpi.kit import (
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
from sanpi.notification.delivery import repository as deliveries
from sanpi.notification.delivery import service as delivery
from sanpi.notification.escalation import ladder, repository
from sanpi.notification.escalation.models import AlertFollow, AlertState
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions.models import Channel, Subscription
from sanpi.notification.supervision import service as supervision

TIMER_BATCH = 200


async def apply_alert(
    uow: UnitOfWork, event: CloudEvent, data: AlertEvent, *, now: dt.datetime
) -> None:
    """Keeps the alert's state. A new raise or a rise in severity clears an acknowledgement (an
    ack of a yellow alert does not cover it turning red); resolving, or falling below red, stops
    every repeat and escalation, and cancels what was not sent yet."""
    session = uow.session
    state = await repository.get(session, data.alert_key)
    if state is not None and event.time < state.last_event_time:
        return  # an older event arriving late: the state already moved past it
    previous = Severity(state.severity) if state is not None else None
    was_red = state is not None and state.firing and previous is Severity.RED
    if state is None:
        state = AlertState(
            alert_key=data.alert_key,
            severity=data.severity,
            last_event_id=event.id,
            last_event_time=event.time,
            last_payload=event.model_dump_json(exclude_none=True),
        )
    rose = previous is not None and SEVERITY_ORDER[data.severity] > SEVERITY_ORDER[previous]
    if isinstance(data, AlertRaised) or rose:
        state.acknowledged_at = None
        state.acknowledged_by = None
        state.acknowledgement_note = None
    state.severity = data.severity
    state.firing = not isinstance(data, AlertResolved)
    is_red = state.firing and data.severity is Severity.RED
    if is_red and not was_red:
        state.red_since, state.red_ended_at = now, None
    elif was_red and not is_red:
        state.red_ended_at = now
    state.park = data.park
    state.project_id = data.project_id
    state.responsible_unit = data.responsible_unit
    state.sponsor_leader = data.sponsor_leader
    state.last_event_id = event.id
    state.last_event_time = event.time
    state.last_payload = event.model_dump_json(exclude_none=True)
    state.updated_at = now
    repository.save(session, state)
    if isinstance(data, AlertResolved):
        await repository.delete_follows_of(session, data.alert_key)
        await deliveries.cancel_unsent_of_alert(uow, data.alert_key, "the alert resolved")
    elif data.severity is not Severity.RED:
        await repository.delete_follows_of(session, data.alert_key)


async def follow(
    uow: UnitOfWork,
    subscription_id: str,
    alert_key: str,
    *,
    now: dt.datetime,
    settings: NotificationSettings,
) -> None:
    """Starts the repeat and escalation clocks of a red alert a subscription was just told about."""
    if await repository.follow_of(uow.session, subscription_id, alert_key) is not None:
        return
    repository.save(
        uow.session,
        AlertFollow(
            subscription_id=subscription_id,
            alert_key=alert_key,
            red_since=now,
            next_repeat_at=now + dt.timedelta(seconds=settings.red_repeat_interval_s),
            next_escalation_at=ladder.next_escalation_at(
                now, 0, settings.escalation_steps, settings.working_time
            ),
        ),
    )


async def acknowledge(
    uow: UnitOfWork,
    *,
    alert_key: str,
    principal: Principal,
    now: dt.datetime,
    note: str | None = None,
) -> AlertState:
    """Acknowledges an alert for everyone, with an optional note: repeats and escalation stop.
    Needs write rights on the alert's park; an alert about the whole district (no park) is an
    admin's to acknowledge. Acknowledging twice keeps the first acknowledgement."""
    session = uow.session
    state = await repository.get(session, alert_key)
    if state is None:
        raise NotFound(refusals.NO_ALERT(alert_key=alert_key))
    if state.park:
        principal.ensure_can_write_park(state.park)
    elif principal.role is not Role.ADMIN:
        raise Forbidden(refusals.DISTRICT_ALERT(alert_key=alert_key))
    if state.acknowledged_at is not None:
        return state
    state.acknowledged_at = now
    state.acknowledged_by = principal.subject
    state.acknowledgement_note = note
    repository.save(session, state)
    for tracked in await repository.follows_of(session, alert_key):
        subscription = await subscriptions.get(session, tracked.subscription_id)
        if subscription is not None:
            uow.publish(
                NotificationAcknowledged(
                    subscription_id=subscription.id,
                    channel=subscription.channel,
                    alert_key=alert_key,
                    acknowledged_by=principal.subject,
                    acknowledged_at=now,
                ),
            )
    await repository.delete_follows_of(session, alert_key)
    return state


async def state_page(
    session: AsyncSession,
    *,
    filters: repository.StateFilter,
    limit: int,
    cursor: str | None,
) -> tuple[list[AlertState], str | None, dict[str, int]]:
    """A page of alert states, most severe first, then newest event first, and the count of
    each severity matching."""
    after = None
    if cursor:
        position = decode_cursor(cursor)
        rank, at, key = position.get("rank"), position.get("at"), position.get("key")
        if not isinstance(rank, int) or not isinstance(at, str) or not isinstance(key, str):
            raise pagination.bad_cursor()
        after = (rank, dt.datetime.fromisoformat(at), key)
    found = await repository.state_page(session, filters=filters, after=after, limit=limit + 1)
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        last, rank = found[-1]
        next_cursor = encode_cursor(
            {"rank": rank, "at": last.last_event_time.isoformat(), "key": last.alert_key}
        )
    counts = await repository.severity_counts(session, filters=filters)
    return [row for row, _rank in found], next_cursor, counts


def _still_pressing(state: AlertState, subscription: Subscription) -> bool:
    return (
        subscription.active
        and state.firing
        and state.severity == Severity.RED
        and state.acknowledged_at is None
    )


async def run_timers(db: Database, *, now: dt.datetime, settings: NotificationSettings) -> int:
    """Sends due repeats and takes due escalation steps; returns how many follows it touched."""
    async with db.transaction() as uow:
        session = uow.session
        due = await repository.due_follows(session, now, TIMER_BATCH)
        for tracked in due:
            state = await repository.get(session, tracked.alert_key)
            subscription = await subscriptions.get(session, tracked.subscription_id)
            if state is None or subscription is None or not _still_pressing(state, subscription):
                await repository.delete_follow(session, tracked)
                continue
            if tracked.next_repeat_at <= now:
                _repeat(uow, tracked, state, subscription, now=now, settings=settings)
            if tracked.next_escalation_at is not None and tracked.next_escalation_at <= now:
                await _escalate(uow, tracked, state, subscription, now=now, settings=settings)
            repository.save(session, tracked)
        return len(due)


def _about_alert(
    uow: UnitOfWork,
    subscription: Subscription,
    state: AlertState,
    kind: Kind,
    *,
    now: dt.datetime,
    **extra: Any,
) -> None:
    """A reminder or escalation message about the alert's latest state, sent at once."""
    delivery.new_delivery(
        uow,
        subscription,
        kind=kind,
        event_id=state.last_event_id,
        event_type=AlertRaised.TYPE,
        event_time=state.last_event_time,
        release=now,
        now=now,
        urgent=True,
        alert_key=state.alert_key,
        severity=state.severity,
        **extra,
    )


def _repeat(
    uow: UnitOfWork,
    tracked: AlertFollow,
    state: AlertState,
    subscription: Subscription,
    *,
    now: dt.datetime,
    settings: NotificationSettings,
) -> None:
    tracked.repeats += 1
    # From now, not from the missed slot: a service that was down sends one reminder, not a burst.
    tracked.next_repeat_at = now + dt.timedelta(seconds=settings.red_repeat_interval_s)
    _about_alert(uow, subscription, state, Kind.REPEAT, now=now, repeat=tracked.repeats)


async def _escalate(
    uow: UnitOfWork,
    tracked: AlertFollow,
    state: AlertState,
    subscription: Subscription,
    *,
    now: dt.datetime,
    settings: NotificationSettings,
) -> None:
    """One step up the ladder: an escalated event, the alert's 督办 item opened at the first step
    (its message to the unit's contact), else an e-mail when the contact has an address. One
    step per tick, so a backlog climbs level by level, each step recorded."""
    tracked.level += 1
    tracked.next_escalation_at = ladder.next_escalation_at(
        tracked.red_since, tracked.level, settings.escalation_steps, settings.working_time
    )
    contact = ladder.contact_for(
        tracked.level,
        subscription.escalation_contacts,
        responsible_unit=state.responsible_unit,
        sponsor_leader=state.sponsor_leader,
        district=settings.escalation_district_contact,
    )
    metrics.ESCALATIONS.labels(str(tracked.level)).inc()
    uow.publish(
        NotificationEscalated(
            subscription_id=subscription.id,
            channel=Channel.EMAIL if ladder.is_address(contact) else subscription.channel,
            alert_key=state.alert_key,
            project_id=state.project_id,
            level=tracked.level,
            contact=contact,
            escalated_at=now,
        ),
    )
    item_sent = await supervision.open_for(
        uow,
        state,
        subscription,
        level=tracked.level,
        red_since=tracked.red_since,
        now=now,
        settings=settings,
    )
    if not item_sent and ladder.is_address(contact):
        _about_alert(
            uow,
            subscription,
            state,
            Kind.ESCALATION,
            now=now,
            channel=Channel.EMAIL,
            target=contact,
            level=tracked.level,
        )
