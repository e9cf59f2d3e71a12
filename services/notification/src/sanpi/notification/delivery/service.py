"""Delivery rules: fan an event out to matching subscriptions (grouping, quiet hours), claim due
deliveries, record each attempt's outcome (retry, dead letter, disable), replay dead letters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    CONTENT_TYPE,
    AlertResolved,
    CloudEvent,
    NotificationDelivered,
    NotificationEndpointDisabled,
    NotificationFailed,
)
from sanpi.kit import (
    CAMPAIGN_TZ,
    CommitSignal,
    Database,
    Page,
    Principal,
    Role,
    Slot,
    UnitOfWork,
    utcnow,
)
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.kit.retention import Retained
from sanpi.kit.sealing import SecretBox, SecretUnavailable
from sanpi.notification import metrics
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Attachment, Kind, Message, Supervision, render
from sanpi.notification.contacts import repository as contact_book
from sanpi.notification.contacts import service as contacts
from sanpi.notification.contacts.models import Contact
from sanpi.notification.delivery import repository
from sanpi.notification.delivery.models import (
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    new_delivery_id,
)
from sanpi.notification.delivery.repository import CarriedEvent, DueDelivery, SentDelivery
from sanpi.notification.delivery.schemas import (
    AttemptPublic,
    DeliveryPublic,
    ReplayRequest,
    ReplayResult,
    Skipped,
)
from sanpi.notification.delivery.timing import quiet_until, retry_delay
from sanpi.notification.digests import message as digest_message
from sanpi.notification.digests import repository as digest_store
from sanpi.notification.escalation import repository as alerts
from sanpi.notification.routing.filters import Filter, Routing, matches
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import repository as subscriptions
from sanpi.notification.subscriptions import service as subscription_rules
from sanpi.notification.subscriptions.models import Channel, Subscription
from sanpi.notification.subscriptions.repository import SubscriptionRow
from sanpi.notification.supervision import repository as supervision_items
from sanpi.notification.supervision.models import SupervisionItem

log = logging.getLogger("sanpi.notification.delivery")

# Set when a transaction that queued deliveries commits: the delivery worker wakes.
DELIVERIES_PENDING = CommitSignal("deliveries")
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


def delivery_values(
    subscription: Subscription | SubscriptionRow,
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
    order_key: str | None = None,
    supervision_id: str | None = None,
    contact_id: str | None = None,
) -> dict[str, Any]:
    """Every column of a new delivery (pure); non-urgent ones wait for the end of the
    subscriber's quiet hours. `order_key`: see `fan_out`; the position is given when the row is
    written (repository.queue)."""
    held_until = None
    if not urgent:
        held_until = quiet_until(release, subscription.quiet_start, subscription.quiet_end)
    return {
        "id": new_delivery_id(),
        "subscription_id": subscription.id,
        "channel": str(channel or subscription.channel),
        "target": target,
        "kind": str(kind),
        "group_key": group_key,
        "alert_key": alert_key,
        "severity": severity,
        "event_id": event_id,
        "event_type": event_type,
        "event_time": event_time,
        "order_key": order_key,
        "position": None,
        "repeat": repeat,
        "escalation_level": level,
        "supervision_id": supervision_id,
        "contact_id": contact_id,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "attempts_before_replay": 0,
        "next_attempt_at": held_until or release,
        "lease_token": None,
        "leased_until": None,
        "deferred_until": None,
        "held_until": held_until,
        "last_error": None,
        "created_at": now,
        "delivered_at": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
    }


# Not a domain event: it exists only inside the test notification it is carried by.
TEST_EVENT_TYPE = "sanpi.notification.test.v1"
TEST_TEXT = {
    "zh": "这是一条测试消息：收到即说明此订阅的通知渠道畅通。",
    "en": "This is a test message: receiving it means this subscription's channel works.",
}


def queue_test(uow: UnitOfWork, subscription: Subscription, *, now: dt.datetime) -> Delivery:
    """Queues a test notification to the subscription's channel, at once (quiet hours aside),
    with the retries and delivery log of any other. Its body names the subscription."""
    language = "en" if subscription.language == "en" else "zh"
    data = {"subscription_id": subscription.id, "message": TEST_TEXT[language]}
    return queue_own_event(
        uow,
        subscription,
        kind=Kind.TEST,
        event_type=TEST_EVENT_TYPE,
        data=data,
        event_id=str(uuid.uuid4()),
        now=now,
        urgent=True,
    )


def own_event(
    subscription_id: str, *, event_type: str, data: dict[str, Any], event_id: str, now: dt.datetime
) -> dict[str, Any]:
    """A CloudEvent of this service's own that exists only inside the notification carrying it
    (a test message, a digest): not a domain event, never on Kafka."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/sanpi/notification",
        "type": event_type,
        "subject": subscription_id,
        "time": now.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def queue_own_event(
    uow: UnitOfWork,
    subscription: Subscription,
    *,
    kind: Kind,
    event_type: str,
    data: dict[str, Any],
    event_id: str,
    now: dt.datetime,
    urgent: bool,
) -> Delivery:
    """Queues a notification carrying one of this service's own events (`own_event`); an urgent
    one leaves at once, quiet hours aside, and the others wait for their end."""
    event = own_event(subscription.id, event_type=event_type, data=data, event_id=event_id, now=now)
    delivery = new_delivery(
        uow,
        subscription,
        kind=kind,
        event_id=event_id,
        event_type=event_type,
        event_time=now,
        release=now,
        now=now,
        urgent=urgent,
    )
    repository.add(
        uow.session,
        DeliveryEvent(
            delivery_id=delivery.id,
            subscription_id=subscription.id,
            event_id=event_id,
            project_name=None,
            payload=json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        ),
    )
    return delivery


def new_delivery(uow: UnitOfWork, subscription: Subscription, **values: Any) -> Delivery:
    """Queues one notification (reminders and escalations: rare, so through the ORM)."""
    delivery = Delivery(**delivery_values(subscription, **values))
    repository.add(uow.session, delivery)
    uow.wake(DELIVERIES_PENDING)
    return delivery


Routable = list[tuple[SubscriptionRow, Filter]]
# The routable subscriptions of a transaction, read once: a consumer batch of 50 events routes
# against one read. Nothing a consumer transaction does changes a subscription.
ROUTABLE: Slot[Routable] = Slot("notification.routable_subscriptions", list)


async def _routable(uow: UnitOfWork) -> Routable:
    found = uow.peek(ROUTABLE)
    if found is None:
        found = [
            (row, subscription_rules.filter_of(row))
            for row in await subscriptions.active_queued(uow.session)
        ]
        uow.put(ROUTABLE, found)
    return found


@dataclass(frozen=True)
class Urgent:
    """A red alert notification just queued for a subscription: the escalation area follows it."""

    subscription_id: str
    alert_key: str


def hears(subscription: Subscription | SubscriptionRow, event_time: dt.datetime) -> bool:
    """Whether an event of `event_time` happened after the subscription was made (it hears
    nothing older: a replay of old topics, a rebuilt projection or a new consumer group must
    not flood it with history)."""
    return event_time >= subscription.created_at - CLOCK_SKEW


def is_history(
    event: CloudEvent, settings: NotificationSettings, *, at: dt.datetime | None = None
) -> bool:
    """Whether `event` is older than the delivery log keeps: then it notifies no one, since the
    deliveries that would say it was notified may be gone (the pruner), and its id may have left
    the consumer inbox. Real time, as the log's own: the rules' clock may be set to any day
    (`at`: when it was consumed, for explaining it later)."""
    keep_days = settings.delivery_retention_days
    return keep_days > 0 and event.time < (at or utcnow()) - dt.timedelta(days=keep_days)


def retained(settings: NotificationSettings) -> list[Retained]:
    """The delivery log and the dead letters, each under its retention (the kit's pruner)."""

    def kept(name: str, days: float, which: Any) -> Retained:
        return Retained(
            name,
            days * 86400,
            lambda session, before, limit: repository.delete_queued_before(
                session, which, before, limit
            ),
            lambda session: repository.oldest_queued(session, which),
        )

    return [
        kept("deliveries", settings.delivery_retention_days, repository.FINISHED),
        kept("dead_deliveries", settings.dead_delivery_retention_days, repository.DEAD),
    ]


async def fan_out(
    uow: UnitOfWork,
    event: CloudEvent,
    routing: Routing,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
) -> list[Urgent]:
    """Routes one event to every matching active subscription, once per (subscription, event);
    returns the notifications queued for urgent (red) alerts, which the escalation area follows."""
    if is_history(event, settings):
        return []
    wanted = [
        subscription
        for subscription, conditions in await _routable(uow)
        if hears(subscription, event.time) and matches(conditions, routing)
    ]
    if not wanted:
        return []
    urgent = is_urgent(event.type, routing)
    group_key = group_key_of(event.type, routing)
    # The inbox already drops redelivered records; this also covers a rebuilt inbox. An event
    # that only queues new deliveries of its own is checked against the database when they are
    # written, with the rest of the batch (repository.queue); one that follows an alert or
    # joins a group is checked now.
    plain = not urgent and group_key is None
    ids = {s.id for s in wanted}
    if plain:
        routed = repository.queued_among(uow, ids, event.id)
    else:
        routed = await repository.routed_among(uow, ids, event.id)
    payload = event.model_dump_json(exclude_none=True)
    new: list[dict[str, Any]] = []
    carried: list[dict[str, Any]] = []
    created: list[Urgent] = []
    for subscription in wanted:
        if subscription.id in routed:
            continue
        delivery_id = None
        if group_key is not None:
            group = await repository.open_group(uow, subscription.id, group_key)
            if group is not None:
                group.kind = Kind.DIGEST
                # Each alert that joins restarts the quiet period, so a pass that is consumed
                # slowly (a busy consumer, a backlog after an outage) still ends in one message;
                # the cap sends a never-ending flood anyway.
                extended = min(
                    now + dt.timedelta(seconds=settings.grouping_window_s),
                    group.created_at + dt.timedelta(seconds=settings.grouping_max_s),
                )
                if group.held_until is None and extended > group.next_attempt_at:
                    group.next_attempt_at = extended
                repository.add(uow.session, group)
                delivery_id = group.id
        if delivery_id is None:
            release = now
            if group_key is not None:
                release = now + dt.timedelta(seconds=settings.grouping_window_s)
            values = delivery_values(
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
                # A subscriber gets a project's events in the order they were consumed, which
                # is the order they happened (one key, one partition): each waits for the one
                # before it to be delivered or dead (repository.due).
                order_key=routing.project_id if plain else None,
            )
            new.append(values)
            delivery_id = values["id"]
            if urgent:
                assert routing.alert_key is not None  # red means an alert
                created.append(Urgent(subscription.id, routing.alert_key))
        carried.append(
            {
                "delivery_id": delivery_id,
                "subscription_id": subscription.id,
                "event_id": event.id,
                "project_name": routing.project_name,
                "payload": payload,
            }
        )
    repository.queue(uow, new, carried, unchecked=event.id if plain else None)
    if new:
        uow.wake(DELIVERIES_PENDING)
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
    mentions: list[str]  # mobile numbers a robot @-mentions
    language: str
    body: bytes  # the webhook body
    content_type: str  # the webhook body's media type
    message: Message  # what a person reads (e-mail, inbox, robots); UNREAD: see _content
    event_ids: list[str]
    event_time: dt.datetime
    own_endpoint: bool  # False for escalation e-mails to ladder contacts
    # The claim's token (Delivery.lease_token): its outcome is recorded only while it holds.
    lease_token: str
    ordered: bool = False  # the next of its order key waits for this one's outcome


class Content(Protocol):
    """What the content of a delivery depends on (a Delivery, or a row the claim read)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def alert_key(self) -> str | None: ...
    @property
    def target(self) -> str | None: ...
    @property
    def repeat(self) -> int: ...
    @property
    def escalation_level(self) -> int: ...
    @property
    def supervision_id(self) -> str | None: ...


ABOUT_ALERT = (Kind.REPEAT, Kind.ESCALATION, Kind.SUPERVISION)
SCHEDULED_DIGESTS = (Kind.DAILY_DIGEST, Kind.XUN_DIGEST)

# The webhook body's media type: one event is sent as the CloudEvent itself, in the HTTP
# binding's structured mode (a CloudEvents SDK's from_http reads it); a digest, reminder or
# escalation is sanpi's own JSON envelope holding the events.
CLOUDEVENT_BODY = CONTENT_TYPE
ENVELOPE_BODY = "application/json"


def single_event(kind: str, events: int) -> bool:
    """Whether a delivery's webhook body is its one event, as a structured CloudEvent."""
    return kind == Kind.EVENT and events == 1


# The message of a webhook delivery whose body is its one CloudEvent: the webhook channel never
# reads a message, and the envelope of the others carries its subject and text.
UNREAD = Message(subject="", text="")


async def content_of(
    session: AsyncSession, delivery: Delivery, subscription: Subscription
) -> tuple[bytes, Message, list[str]] | None:
    """The webhook body, the human message and the event ids of a delivery; None when the alert
    a reminder or escalation is about is gone."""
    carried = (
        {} if delivery.kind in ABOUT_ALERT else await repository.events_of(session, [delivery.id])
    )
    return await _content(
        session, delivery, subscription.id, subscription.language, carried.get(delivery.id, [])
    )


async def _content(
    session: AsyncSession,
    delivery: Content,
    subscription_id: str,
    language: str,
    carried: list[CarriedEvent],
    *,
    webhook: bool = False,
) -> tuple[bytes, Message, list[str]] | None:
    """`webhook`: the delivery goes out through the webhook channel, which reads the body only."""
    names: dict[str, str] = {}
    if delivery.kind in ABOUT_ALERT:
        state = await alerts.get(session, delivery.alert_key or "")
        if state is None:
            return None
        raw = [state.last_payload]
        event_ids = [state.last_event_id]
        events = [json.loads(state.last_payload)]
    else:
        raw = [c.payload for c in carried]
        event_ids = [c.event_id for c in carried]
        if webhook and single_event(delivery.kind, len(raw)):
            # The CloudEvent itself, byte for byte, and nothing else: parsing it and rendering a
            # message nobody reads cost 12-20 CPU-µs a delivery (1.3-1.8 without, measured).
            return raw[0].encode(), UNREAD, event_ids
        events = [json.loads(r) for r in raw]
        names = {
            e["data"].get("project_id", ""): c.project_name or ""
            for e, c in zip(events, carried, strict=True)
        }
    item = None
    if delivery.kind == Kind.SUPERVISION and delivery.supervision_id:
        item = await supervision_items.get(session, delivery.supervision_id)
        if item is None:
            return None
    if delivery.kind in SCHEDULED_DIGESTS:
        message = digest_message.render(events[0], language=language)
    else:
        message = render(
            Kind(delivery.kind),
            events,
            language=language,
            project_names={k: v for k, v in names.items() if v},
            repeat=delivery.repeat,
            level=delivery.escalation_level,
            contact=delivery.target or "",
            supervision=_supervision_of(item) if item is not None else None,
        )
    if single_event(delivery.kind, len(raw)):
        body = raw[0].encode()  # the CloudEvent itself, byte for byte
    else:
        envelope: dict[str, Any] = {
            "type": f"sanpi.notification.{delivery.kind.lower()}",
            "id": delivery.id,
            "subscription_id": subscription_id,
            "alert_key": delivery.alert_key,
            "language": language,
            "subject": message.subject,
            "text": message.text,
            "events": events,
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return body, message, event_ids


async def _with_bulletin(
    session: AsyncSession, message: Message, carried: list[CarriedEvent], language: str
) -> Message:
    """A 旬 digest's e-mail with its 旬's bulletin attached (stored when the digest was made),
    and a line naming it."""
    if not carried:
        return message
    data = json.loads(carried[0].payload).get("data", {})
    period = data.get("bulletin_period")
    if not period or data.get("bulletin_missing"):
        return message
    stored = await digest_store.bulletin(session, str(period))
    if stored is None:  # never stored: the message already says where to open it
        return message
    line = f"附件：{stored.filename}" if language != "en" else f"Attached: {stored.filename}"
    return dataclasses.replace(
        message,
        text=f"{message.text}\n\n{line}",
        attachments=(Attachment(stored.filename, "application/pdf", stored.content),),
    )


def _supervision_of(item: SupervisionItem) -> Supervision:
    return Supervision(
        item_id=item.id,
        unit=item.unit or "",
        contact=item.contact_name or "",
        level=item.level,
        due=item.due_at.astimezone(CAMPAIGN_TZ).strftime("%Y-%m-%d %H:%M"),
        overdue_count=item.overdue_count,
    )


@dataclass(frozen=True)
class ClaimBatch:
    claimed: list[Claimed]
    full: bool  # the claim took as many as it could: more may be due already


async def claim_due(
    db: Database,
    *,
    now: dt.datetime,
    limit: int,
    lease_s: float,
    box: SecretBox,
    real_now: dt.datetime | None = None,
) -> ClaimBatch:
    """Takes up to `limit` due deliveries under a lease of `lease_s` real seconds from
    `real_now` (utcnow() unless given), so that a worker that dies mid-send leaves them to be
    retried, not lost, and under a new token, so that a worker that outlives its lease cannot
    record over the one that re-claimed them. `now` is the rules' clock: what is due (a claimed
    delivery's due time is left as it was). `box` opens the signing secrets."""
    claimed: list[Claimed] = []
    real_now = real_now or utcnow()
    token = uuid.uuid4().hex
    async with db.transaction() as uow:
        session = uow.session
        due, owners = await repository.due(session, now=now, real_now=real_now, limit=limit)
        if not due:
            return ClaimBatch([], full=False)
        carried = await repository.events_of(
            session, [d.id for d in due if d.kind not in ABOUT_ALERT]
        )
        book = await contact_book.many(session, [d.contact_id for d in due if d.contact_id])
        changes: dict[str, dict[str, Any]] = {}
        for delivery in due:
            subscription = owners.get(delivery.subscription_id)
            if subscription is None:
                changes[delivery.id] = _ended(DeliveryStatus.CANCELLED, "subscription deleted")
                continue
            if not subscription.active:
                changes[delivery.id] = _ended(
                    DeliveryStatus.DEAD, f"subscription disabled: {subscription.disabled_reason}"
                )
                metrics.DEAD_LETTERED.labels(delivery.channel).inc()
                continue
            content = await _content(
                session,
                delivery,
                subscription.id,
                subscription.language,
                carried.get(delivery.id, []),
                webhook=delivery.channel == Channel.WEBHOOK,
            )
            if content is None:
                changes[delivery.id] = _ended(DeliveryStatus.CANCELLED, "the alert is gone")
                continue
            body, message, event_ids = content
            if delivery.kind in SCHEDULED_DIGESTS and delivery.channel == "email":
                message = await _with_bulletin(
                    session, message, carried.get(delivery.id, []), subscription.language
                )
            attempt = delivery.attempts + 1
            # Its due time stays as it was: the lease alone, on real time, keeps the other
            # claimers away, and once it ends (the sender died) the delivery is due at once.
            # `now + lease_s` on the rules' clock never came due on a clock that stands still
            # (a test's FixedClock), whatever real time passed.
            changes[delivery.id] = {
                "attempts": attempt,
                "lease_token": token,
                "leased_until": real_now + dt.timedelta(seconds=lease_s),
                "deferred_until": None,
            }
            target = delivery.target or subscription.url or subscription.email or ""
            secrets = subscription_rules.signing_secrets(subscription, now, box)
            mentions = list(subscription.mention_mobiles or ())
            contact = book.get(delivery.contact_id) if delivery.contact_id else None
            if contact is not None:
                mentions, secrets = _contact_reach(contact, delivery, subscription, secrets, box)
            claimed.append(
                Claimed(
                    delivery_id=delivery.id,
                    subscription_id=subscription.id,
                    attempt=attempt,
                    channel=delivery.channel,
                    target=target,
                    secrets=secrets,
                    mentions=mentions,
                    language=subscription.language,
                    body=body,
                    content_type=CLOUDEVENT_BODY
                    if single_event(delivery.kind, len(event_ids))
                    else ENVELOPE_BODY,
                    message=message,
                    event_ids=event_ids,
                    event_time=delivery.event_time,
                    own_endpoint=delivery.target is None,
                    lease_token=token,
                    ordered=delivery.order_key is not None,
                )
            )
        await repository.set_fields(session, changes)
    return ClaimBatch(claimed, full=len(due) >= limit)


def _contact_reach(
    contact: Contact,
    delivery: DueDelivery,
    subscription: SubscriptionRow,
    secrets: list[str],
    box: SecretBox,
) -> tuple[list[str], list[str]]:
    """The mobiles a 督办 message @-mentions and the secrets it is signed with: the contact's
    own robot's, or the subscription's when it rides on the subscription's robot."""
    route = contacts.reach(contact, subscription.channel)
    if route is None or str(route.channel) != delivery.channel:
        return [], secrets if delivery.target is None else []
    if delivery.target is None:  # the subscription's robot, @-mentioning the contact
        return list(route.mentions), secrets
    if not route.sealed_secret:
        return list(route.mentions), []
    try:
        return list(route.mentions), [box.open(route.sealed_secret)]
    except SecretUnavailable:
        # Unsigned, the robot refuses it: the attempt fails and shows why, as for subscriptions.
        return list(route.mentions), []


def _ended(status: DeliveryStatus, reason: str) -> dict[str, Any]:
    return {"status": status.value, "last_error": reason}


@dataclass
class Health:
    """A subscription's failure tracking as a batch of outcomes changes it, one by one."""

    subscription: SubscriptionRow
    consecutive_failures: int
    failing_since: dt.datetime | None
    active: bool
    disabled_reason: str | None = None
    touched: bool = False
    last_error: str | None = None

    @staticmethod
    def of(subscription: SubscriptionRow) -> Health:
        return Health(
            subscription,
            subscription.consecutive_failures,
            subscription.failing_since,
            subscription.active,
            last_error=subscription.last_error,
        )

    def columns(self, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {
            "consecutive_failures": self.consecutive_failures,
            "failing_since": self.failing_since,
            "last_error": self.last_error,
        }
        if self.active != self.subscription.active:
            values.update(active=self.active, disabled_reason=self.disabled_reason, updated_at=now)
        return values


def _disable_reason(
    health: Health,
    result: AttemptResult,
    settings: NotificationSettings,
    now: dt.datetime,
) -> str | None:
    """Why this failure disables the subscription's endpoint, if it does (pure)."""
    if result.gone:
        return "receiver answered 410 Gone"
    since = health.failing_since
    if (
        since is not None
        and health.consecutive_failures >= settings.endpoint_disable_min_failures
        and (now - since).total_seconds() >= settings.endpoint_disable_after_s
    ):
        return (
            f"sustained failure: {health.consecutive_failures} failed attempts in a row "
            f"since {since.isoformat()}"
        )
    return None


async def record_results(
    db: Database,
    done: Sequence[tuple[Claimed, AttemptResult]],
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
    real_now: dt.datetime | None = None,
) -> list[DeliveryStatus]:
    """Logs each attempt and decides: delivered, retry later, deferred (a rate limit, until
    `real_now`, utcnow() unless given, plus its wait), or dead (a dead letter); 410 or
    sustained failure disables the subscription. Outcome events go out through the outbox.
    The whole claimed batch is one transaction (one write lock and one commit instead of one
    per delivery); should that fail, one transaction per result."""
    real_now = real_now or utcnow()
    try:
        async with db.transaction() as uow:
            return await _record(uow, done, settings=settings, now=now, real_now=real_now, rng=rng)
    except Exception:
        statuses: list[DeliveryStatus] = []
        for one in done:
            async with db.transaction() as uow:
                statuses += await _record(
                    uow, [one], settings=settings, now=now, real_now=real_now, rng=rng
                )
        return statuses


async def _record(
    uow: UnitOfWork,
    done: Sequence[tuple[Claimed, AttemptResult]],
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    real_now: dt.datetime,
    rng: random.Random,
) -> list[DeliveryStatus]:
    session = uow.session
    deliveries, owners = await repository.sent(session, [c.delivery_id for c, _r in done])
    health = {sid: Health.of(row) for sid, row in owners.items()}
    statuses: list[DeliveryStatus] = []
    attempts: list[dict[str, Any]] = []
    changes: dict[str, dict[str, Any]] = {}
    for claimed, result in done:
        delivery = deliveries.get(claimed.delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            statuses.append(
                DeliveryStatus(delivery.status) if delivery else DeliveryStatus.CANCELLED
            )
            continue
        if delivery.lease_token != claimed.lease_token:
            # Re-claimed after this claim's lease ran out: the other claimer's outcome is the
            # one recorded (its attempt, its events, the endpoint's health). This send may have
            # reached the receiver too; the webhook-id header lets it tell.
            metrics.STALE_OUTCOMES.labels(claimed.channel).inc()
            log.warning(
                "delivery %s attempt %d: re-claimed after its lease ran out, outcome dropped",
                claimed.delivery_id,
                claimed.attempt,
            )
            statuses.append(DeliveryStatus.PENDING)
            continue
        if result.deferred:
            # Not attempted (the channel's rate limit): back in the queue, its attempt unspent,
            # due on the rules' clock now and held until the vendor's window frees a slot, which
            # is wall-clock time (as the lease): `now + wait` on a clock that stands still (a
            # test's FixedClock) never came due.
            wait = dt.timedelta(seconds=result.retry_after_s or 1.0)
            changes[delivery.id] = {
                "attempts": claimed.attempt - 1,
                "next_attempt_at": now,
                **RELEASED,
                "deferred_until": real_now + wait,
            }
            statuses.append(DeliveryStatus.PENDING)
            continue
        attempts.append(
            {
                "delivery_id": delivery.id,
                "number": claimed.attempt,
                "at": now,
                "status_code": result.status_code,
                "error": result.error,
                "duration_ms": result.duration_ms,
            }
        )
        own = health.get(delivery.subscription_id) if claimed.own_endpoint else None
        if result.delivered:
            changes[delivery.id] = _delivered(uow, delivery, own, claimed, now) | RELEASED
        else:
            changes[delivery.id] = RELEASED | _failed(
                uow, delivery, own, claimed, result, settings=settings, now=now, rng=rng
            )
        statuses.append(DeliveryStatus(changes[delivery.id].get("status", delivery.status)))
    await repository.insert_attempts(session, attempts)
    await repository.set_fields(session, changes)
    await subscriptions.set_health(
        session, {sid: h.columns(now) for sid, h in health.items() if h.touched}
    )
    return statuses


# An outcome ends the claim's lease: a retry is due at its next attempt, not a lease later.
RELEASED: dict[str, Any] = {"lease_token": None, "leased_until": None}


def _delivered(
    uow: UnitOfWork,
    delivery: SentDelivery,
    own: Health | None,
    claimed: Claimed,
    now: dt.datetime,
) -> dict[str, Any]:
    if own is not None and (own.consecutive_failures or own.last_error):
        own.consecutive_failures = 0
        own.failing_since = None
        own.last_error = None
        own.touched = True
    latency_s = max(0.0, (now - delivery.event_time).total_seconds())
    metrics.NOTIFICATIONS.labels(claimed.channel, "delivered").inc()
    metrics.DELIVERY_LATENCY.labels(claimed.channel).observe(latency_s)
    uow.publish(
        NotificationDelivered(
            subscription_id=delivery.subscription_id,
            channel=claimed.channel,
            notification_id=delivery.id,
            event_ids=claimed.event_ids,
            attempts=claimed.attempt,
            latency_ms=int(latency_s * 1000),
        ),
    )
    return {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now, "last_error": None}


def _failed(
    uow: UnitOfWork,
    delivery: SentDelivery,
    own: Health | None,
    claimed: Claimed,
    result: AttemptResult,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
    rng: random.Random,
) -> dict[str, Any]:
    error = result.error or "failed"
    last_error = error
    disabled = None
    if own is not None:
        own.touched = True
        own.consecutive_failures += 1
        own.failing_since = own.failing_since or now
        own.last_error = error[:500]
        disabled = _disable_reason(own, result, settings, now) if own.active else None
        if disabled is not None:
            own.active = False
            own.disabled_reason = disabled
            uow.publish(
                NotificationEndpointDisabled(
                    subscription_id=own.subscription.id,
                    channel=own.subscription.channel,
                    owner=own.subscription.owner,
                    reason=disabled,
                ),
            )
    tries = claimed.attempt - delivery.attempts_before_replay
    final = disabled is not None or result.give_up or tries >= settings.delivery_max_attempts
    change: dict[str, Any]
    if final:
        if disabled is not None:
            last_error = f"{error}; subscription disabled: {disabled}"
        change = {"status": DeliveryStatus.DEAD.value, "last_error": last_error}
        metrics.NOTIFICATIONS.labels(claimed.channel, "dead").inc()
        metrics.DEAD_LETTERED.labels(claimed.channel).inc()
    else:
        metrics.NOTIFICATIONS.labels(claimed.channel, "failed").inc()
        delay = retry_delay(
            tries,
            base_s=settings.delivery_backoff_base_s,
            max_s=settings.delivery_backoff_max_s,
            retry_after_s=result.retry_after_s,
            rng=rng,
        )
        # The backoff stays on the rules' clock, unlike the lease and a rate-limit deferral:
        # those bound what happens outside the rules in real time (a sender's process, a
        # vendor's minute) and must end however the rules' clock reads, whereas when to try a
        # failing receiver again is a rule, as quiet hours are. A production clock is the real
        # one, so the two agree there; a test on a FixedClock that expects a retry moves its
        # clock past next_attempt_at (one that does not gets no retry storm).
        change = {"last_error": last_error, "next_attempt_at": now + dt.timedelta(seconds=delay)}
    uow.publish(
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
    return change


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
    uow: UnitOfWork, *, body: ReplayRequest, principal: Principal, now: dt.datetime
) -> ReplayResult:
    """Puts dead letters back in the queue with a full set of attempts; those of a disabled or
    deleted subscription stay dead until it is re-enabled (PATCH active=true)."""
    session = uow.session
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
        uow.wake(DELIVERIES_PENDING)
    return result


async def refresh_gauges(db: Database, *, real_now: dt.datetime | None = None) -> None:
    """Sets the queue gauges; leases are read at `real_now` (utcnow() unless given), real time
    as the claim's."""
    async with db.read() as session:
        pending, retrying, dead = await repository.queue_figures(
            session, real_now=real_now or utcnow()
        )
    metrics.PENDING.set(pending)
    metrics.RETRY_QUEUE_DEPTH.set(retrying)
    metrics.DEAD_LETTERS.set(dead)
