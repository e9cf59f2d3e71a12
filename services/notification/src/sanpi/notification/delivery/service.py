"""Delivery rules: fan an event out to matching subscriptions (grouping, quiet hours), claim due
deliveries, record each attempt's outcome (retry, dead letter, disable), replay dead letters."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    AlertResolved,
    CloudEvent,
    NotificationDelivered,
    NotificationEndpointDisabled,
    NotificationFailed,
)
from sanpi.kit import Database, Page, Principal, Role, enqueue
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.notification import metrics
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Kind, Message, render
from sanpi.notification.delivery import repository
from sanpi.notification.delivery.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryStatus,
)
from sanpi.notification.delivery.schemas import (
    AttemptPublic,
    DeliveryPublic,
    ReplayRequest,
    ReplayResult,
    Skipped,
)
from sanpi.notification.delivery.timing import quiet_until, retry_delay
from sanpi.notification.escalation import repository as alerts
from sanpi.notification.routing.filters import Routing, matches
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions import service as subscription_rules
from sanpi.notification.subscriptions.models import Channel, Subscription

# Marks a session that created deliveries, so that the worker wakes when it commits.
DELIVERIES_PENDING = "deliveries_pending"
# Events are stamped by another service's clock: a few seconds of disagreement must not drop
# an event that happened as the subscription was being made.
CLOCK_SKEW = dt.timedelta(seconds=5)


def is_urgent(event_type: str, routing: Routing) -> bool:
    """A firing red alert: sent at once, alone, through quiet hours, and followed up."""
    return routing.is_red and event_type != AlertResolved.TYPE


def group_key_of(event_type: str, routing: Routing) -> str | None:
    """Non-urgent alert events of one evaluation pass for one park share a message."""
    if routing.alert_key is None or routing.evaluation_id is None:
        return None
    if is_urgent(event_type, routing):
        return None
    state = "resolved" if event_type == AlertResolved.TYPE else "firing"
    return f"{routing.evaluation_id}|{routing.park or '*'}|{state}"


def new_delivery(
    session: AsyncSession,
    subscription: Subscription,
    *,
    kind: Kind,
    event_id: str,
    event_type: str,
    event_time: dt.datetime,
    release: dt.datetime,
    now: dt.datetime,
    urgent: bool,
    alert_key: str | None = None,
    severity: str | None = None,
    group_key: str | None = None,
    channel: str | None = None,
    target: str | None = None,
    repeat: int = 0,
    level: int = 0,
) -> Delivery:
    """Queues a notification; non-urgent ones wait for the end of the subscriber's quiet hours."""
    held_until = None
    if not urgent:
        held_until = quiet_until(release, subscription.quiet_start, subscription.quiet_end)
    delivery = Delivery(
        subscription_id=subscription.id,
        channel=channel or subscription.channel,
        target=target,
        kind=kind,
        group_key=group_key,
        alert_key=alert_key,
        severity=severity,
        event_id=event_id,
        event_type=event_type,
        event_time=event_time,
        repeat=repeat,
        escalation_level=level,
        next_attempt_at=held_until or release,
        held_until=held_until,
        created_at=now,
    )
    repository.add(session, delivery)
    session.info[DELIVERIES_PENDING] = True
    return delivery


async def fan_out(
    session: AsyncSession,
    event: CloudEvent,
    routing: Routing,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
) -> list[Delivery]:
    """Routes one event to every matching active subscription, once per (subscription, event);
    returns the deliveries created for urgent (red) alerts, which the escalation area follows."""
    urgent = is_urgent(event.type, routing)
    group_key = group_key_of(event.type, routing)
    payload = event.model_dump_json(exclude_none=True)
    created: list[Delivery] = []
    for subscription in await subscriptions.active_queued(session):
        if event.time < subscription.created_at - CLOCK_SKEW:
            # A subscription hears what happens after it was made: a replay of old topics
            # (a rebuilt projection, a new consumer group) does not flood it with history.
            continue
        if not matches(subscription_rules.filter_of(subscription), routing):
            continue
        # The inbox already drops redelivered records; this also covers a rebuilt inbox.
        if await repository.event_routed(session, subscription.id, event.id):
            continue
        delivery = None
        if group_key is not None:
            delivery = await repository.open_group(session, subscription.id, group_key)
            if delivery is not None:
                delivery.kind = Kind.DIGEST
                # Each alert that joins restarts the quiet period, so a pass that is consumed
                # slowly (a busy consumer, a backlog after an outage) still ends in one message;
                # the cap sends a never-ending flood anyway.
                extended = min(
                    now + dt.timedelta(seconds=settings.grouping_window_s),
                    delivery.created_at + dt.timedelta(seconds=settings.grouping_max_s),
                )
                if delivery.held_until is None and extended > delivery.next_attempt_at:
                    delivery.next_attempt_at = extended
                repository.add(session, delivery)
        if delivery is None:
            release = now
            if group_key is not None:
                release = now + dt.timedelta(seconds=settings.grouping_window_s)
            delivery = new_delivery(
                session,
                subscription,
                kind=Kind.EVENT,
                event_id=event.id,
                event_type=event.type,
                event_time=event.time,
                release=release,
                now=now,
                urgent=urgent,
                alert_key=routing.alert_key,
                severity=routing.severity,
                group_key=group_key,
            )
            if urgent:
                created.append(delivery)
        repository.add(
            session,
            DeliveryEvent(
                delivery_id=delivery.id,
                subscription_id=subscription.id,
                event_id=event.id,
                project_name=routing.project_name,
                payload=payload,
            ),
        )
    return created


@dataclass(frozen=True)
class Claimed:
    """A delivery attempt this worker owns until its lease ends, with all it needs to send."""

    delivery_id: str
    subscription_id: str
    attempt: int
    channel: str
    target: str  # the URL or e-mail address ("" for the inbox)
    secrets: list[str]
    language: str
    body: bytes  # the webhook body
    message: Message  # what a person reads (e-mail, inbox)
    event_ids: list[str]
    event_time: dt.datetime
    own_endpoint: bool  # False for escalation e-mails to ladder contacts


async def content_of(
    session: AsyncSession, delivery: Delivery, subscription: Subscription
) -> tuple[bytes, Message, list[str]] | None:
    """The webhook body, the human message and the event ids of a delivery; None when the alert
    a reminder or escalation is about is gone."""
    names: dict[str, str] = {}
    if delivery.kind in (Kind.REPEAT, Kind.ESCALATION):
        state = await alerts.get(session, delivery.alert_key or "")
        if state is None:
            return None
        raw = [state.last_payload]
        event_ids = [state.last_event_id]
    else:
        rows = await repository.events_of(session, delivery.id)
        raw = [r.payload for r in rows]
        event_ids = [r.event_id for r in rows]
        names = {
            json.loads(r.payload)["data"].get("project_id", ""): r.project_name or "" for r in rows
        }
    events = [json.loads(r) for r in raw]
    contact = delivery.target or ""
    message = render(
        Kind(delivery.kind),
        events,
        language=subscription.language,
        project_names={k: v for k, v in names.items() if v},
        repeat=delivery.repeat,
        level=delivery.escalation_level,
        contact=contact,
    )
    if delivery.kind == Kind.EVENT and len(raw) == 1:
        body = raw[0].encode()  # the CloudEvent itself, byte for byte
    else:
        envelope: dict[str, Any] = {
            "type": f"sanpi.notification.{delivery.kind.lower()}",
            "id": delivery.id,
            "subscription_id": subscription.id,
            "alert_key": delivery.alert_key,
            "language": subscription.language,
            "subject": message.subject,
            "text": message.text,
            "events": events,
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return body, message, event_ids


async def claim_due(db: Database, *, now: dt.datetime, limit: int, lease_s: float) -> list[Claimed]:
    """Takes up to `limit` due deliveries and pushes their next attempt a lease away, so that a
    worker that dies mid-send leaves them to be retried, not lost."""
    claimed: list[Claimed] = []
    async with db.transaction() as session:
        for delivery in await repository.due(session, now=now, limit=limit):
            subscription = await subscriptions.get(session, delivery.subscription_id)
            if subscription is None:
                delivery.status = DeliveryStatus.CANCELLED
                delivery.last_error = "subscription deleted"
                repository.add(session, delivery)
                continue
            if not subscription.active:
                delivery.status = DeliveryStatus.DEAD
                delivery.last_error = f"subscription disabled: {subscription.disabled_reason}"
                repository.add(session, delivery)
                metrics.DEAD_LETTERED.labels(delivery.channel).inc()
                continue
            content = await content_of(session, delivery, subscription)
            if content is None:
                delivery.status = DeliveryStatus.CANCELLED
                delivery.last_error = "the alert is gone"
                repository.add(session, delivery)
                continue
            body, message, event_ids = content
            delivery.attempts += 1
            delivery.next_attempt_at = now + dt.timedelta(seconds=lease_s)
            repository.add(session, delivery)
            if delivery.target:
                target = delivery.target
            elif delivery.channel == Channel.WEBHOOK:
                target = subscription.url or ""
            else:
                target = subscription.email or ""
            claimed.append(
                Claimed(
                    delivery_id=delivery.id,
                    subscription_id=subscription.id,
                    attempt=delivery.attempts,
                    channel=delivery.channel,
                    target=target,
                    secrets=subscription_rules.signing_secrets(subscription, now),
                    language=subscription.language,
                    body=body,
                    message=message,
                    event_ids=event_ids,
                    event_time=delivery.event_time,
                    own_endpoint=delivery.target is None,
                )
            )
    return claimed


def _disable_reason(
    subscription: Subscription,
    result: AttemptResult,
    settings: NotificationSettings,
    now: dt.datetime,
) -> str | None:
    """Why this failure disables the subscription's endpoint, if it does (pure)."""
    if result.gone:
        return "receiver answered 410 Gone"
    since = subscription.failing_since
    if (
        since is not None
        and subscription.consecutive_failures >= settings.endpoint_disable_min_failures
        and (now - since).total_seconds() >= settings.endpoint_disable_after_s
    ):
        return (
            f"sustained failure: {subscription.consecutive_failures} failed attempts in a row "
            f"since {since.isoformat()}"
        )
    return None


async def record_result(
    db: Database,
    claimed: Claimed,
    result: AttemptResult,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> DeliveryStatus:
    """Logs the attempt and decides: delivered, retry later, or dead (a dead letter); 410 or
    sustained failure disables the subscription. Outcome events go out through the outbox."""
    async with db.transaction() as session:
        return await _record(session, claimed, result, settings=settings, now=now, rng=rng)


async def record_results(
    db: Database,
    done: Sequence[tuple[Claimed, AttemptResult]],
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> list[DeliveryStatus]:
    """`record_result` for a whole claimed batch in one transaction (one write lock and one
    commit instead of one per delivery); should that fail, one transaction per result."""
    try:
        async with db.transaction() as session:
            return [
                await _record(session, claimed, result, settings=settings, now=now, rng=rng)
                for claimed, result in done
            ]
    except Exception:
        return [
            await record_result(db, claimed, result, settings=settings, now=now, rng=rng)
            for claimed, result in done
        ]


async def _record(
    session: AsyncSession,
    claimed: Claimed,
    result: AttemptResult,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> DeliveryStatus:
    delivery = await repository.get(session, claimed.delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return DeliveryStatus(delivery.status) if delivery else DeliveryStatus.CANCELLED
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
    subscription = await subscriptions.get(session, delivery.subscription_id)
    own = subscription if claimed.own_endpoint else None
    if result.delivered:
        _delivered(session, delivery, own, claimed, now)
    else:
        _failed(session, delivery, own, claimed, result, settings=settings, now=now, rng=rng)
    repository.add(session, delivery)
    return DeliveryStatus(delivery.status)


def _delivered(
    session: AsyncSession,
    delivery: Delivery,
    own: Subscription | None,
    claimed: Claimed,
    now: dt.datetime,
) -> None:
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.last_error = None
    if own is not None and own.consecutive_failures:
        own.consecutive_failures = 0
        own.failing_since = None
        session.add(own)
    latency_s = max(0.0, (now - delivery.event_time).total_seconds())
    metrics.NOTIFICATIONS.labels(claimed.channel, "delivered").inc()
    metrics.DELIVERY_LATENCY.labels(claimed.channel).observe(latency_s)
    enqueue(
        session,
        NotificationDelivered(
            subscription_id=delivery.subscription_id,
            channel=claimed.channel,
            notification_id=delivery.id,
            event_ids=claimed.event_ids,
            attempts=claimed.attempt,
            latency_ms=int(latency_s * 1000),
        ),
    )


def _failed(
    session: AsyncSession,
    delivery: Delivery,
    own: Subscription | None,
    claimed: Claimed,
    result: AttemptResult,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> None:
    error = result.error or "failed"
    delivery.last_error = error
    disabled = None
    if own is not None:
        own.consecutive_failures += 1
        own.failing_since = own.failing_since or now
        disabled = _disable_reason(own, result, settings, now) if own.active else None
        if disabled is not None:
            own.active = False
            own.disabled_reason = disabled
            own.updated_at = now
            enqueue(
                session,
                NotificationEndpointDisabled(
                    subscription_id=own.id,
                    channel=own.channel,
                    owner=own.owner,
                    reason=disabled,
                ),
            )
        session.add(own)
    tries = claimed.attempt - delivery.attempts_before_replay
    final = disabled is not None or tries >= settings.delivery_max_attempts
    if final:
        delivery.status = DeliveryStatus.DEAD
        if disabled is not None:
            delivery.last_error = f"{error}; subscription disabled: {disabled}"
        metrics.NOTIFICATIONS.labels(claimed.channel, "dead").inc()
        metrics.DEAD_LETTERED.labels(claimed.channel).inc()
    else:
        metrics.NOTIFICATIONS.labels(claimed.channel, "failed").inc()
        delivery.next_attempt_at = now + dt.timedelta(
            seconds=retry_delay(
                tries,
                base_s=settings.delivery_backoff_base_s,
                max_s=settings.delivery_backoff_max_s,
                retry_after_s=result.retry_after_s,
                rng=rng,
            )
        )
    enqueue(
        session,
        NotificationFailed(
            subscription_id=delivery.subscription_id,
            channel=claimed.channel,
            notification_id=delivery.id,
            event_ids=claimed.event_ids,
            attempts=claimed.attempt,
            error=error,
            final=final,
        ),
    )


async def _visible_subscriptions(
    session: AsyncSession, principal: Principal, subscription_id: str | None
) -> list[str] | None:
    """The subscription ids the caller may see (None = all, for an admin without a filter)."""
    if subscription_id is not None:
        await subscription_rules.get_owned(
            session, subscription_id=subscription_id, principal=principal
        )
        return [subscription_id]
    if principal.role is Role.ADMIN:
        return None
    return await subscriptions.owned_ids(session, principal.subject)


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    subscription_id: str | None,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryPublic]:
    """Deliveries of the caller's subscriptions (or of one), each with its attempt log."""
    ids = await _visible_subscriptions(session, principal, subscription_id)
    rows = await repository.list_page(
        session,
        subscription_ids=ids,
        status=status,
        limit=limit + 1,
        after=created_key_after(cursor),
    )
    page, next_cursor = page_by_created(rows, limit, lambda d: (d.created_at, d.id))
    delivery_ids = [d.id for d in page]
    attempts = await repository.attempts_of(session, delivery_ids)
    event_ids = await repository.event_ids_of(session, delivery_ids)
    by_delivery: dict[str, list[AttemptPublic]] = {}
    for a in attempts:
        by_delivery.setdefault(a.delivery_id, []).append(AttemptPublic.model_validate(a))
    items = [
        DeliveryPublic.model_validate(d).model_copy(
            update={
                "attempt_log": by_delivery.get(d.id, []),
                "event_ids": event_ids.get(d.id, [d.event_id]),
            }
        )
        for d in page
    ]
    return Page[DeliveryPublic](items=items, next_cursor=next_cursor)


async def replay_dead_letters(
    session: AsyncSession, *, body: ReplayRequest, principal: Principal, now: dt.datetime
) -> ReplayResult:
    """Puts dead letters back in the queue with a full set of attempts; those of a disabled or
    deleted subscription stay dead until it is re-enabled (PATCH active=true)."""
    ids = await _visible_subscriptions(session, principal, body.subscription_id)
    rows = await repository.dead_letters(
        session, subscription_ids=ids, delivery_ids=body.delivery_ids or None
    )
    result = ReplayResult()
    for delivery in rows:
        subscription = await subscriptions.get(session, delivery.subscription_id)
        if subscription is None or not subscription.active:
            reason = "subscription deleted" if subscription is None else "subscription disabled"
            result.skipped.append(Skipped(id=delivery.id, reason=reason))
            continue
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts_before_replay = delivery.attempts
        delivery.next_attempt_at = now
        repository.add(session, delivery)
        result.replayed.append(delivery.id)
    if result.replayed:
        session.info[DELIVERIES_PENDING] = True
    return result


async def refresh_gauges(db: Database) -> None:
    async with db.read() as session:
        pending, retrying, dead = await repository.queue_figures(session)
    metrics.PENDING.set(pending)
    metrics.RETRY_QUEUE_DEPTH.set(retrying)
    metrics.DEAD_LETTERS.set(dead)
