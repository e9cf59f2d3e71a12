"""Events of the notification service, on sanpi.notifications: delivery outcomes and escalation."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from sanpi.events.catalog import EventData, event_type
from sanpi.events.topics import Topic


class NotificationEvent(EventData):
    """About one subscription's notification; keyed by the subscription id."""

    subscription_id: str
    channel: str = Field(description="webhook, email, stream or inbox")

    def partition_key(self) -> str:
        return self.subscription_id

    def subject(self) -> str | None:
        return self.subscription_id


@event_type("sanpi.notification.delivered.v1", topic=Topic.NOTIFICATIONS)
class NotificationDelivered(NotificationEvent):
    notification_id: str
    event_ids: list[str] = Field(description="the sanpi events this notification carried")
    attempts: int = Field(ge=1)
    latency_ms: int = Field(ge=0, description="from the first event's time to delivery")


@event_type("sanpi.notification.failed.v1", topic=Topic.NOTIFICATIONS)
class NotificationFailed(NotificationEvent):
    notification_id: str
    event_ids: list[str]
    attempts: int = Field(ge=1)
    error: str
    final: bool = Field(description="true when no further attempt follows (dead letter)")


@event_type("sanpi.notification.endpoint_disabled.v1", topic=Topic.NOTIFICATIONS)
class NotificationEndpointDisabled(NotificationEvent):
    """A subscription was disabled: its receiver said 410 Gone, or kept failing."""

    owner: str
    reason: str


@event_type("sanpi.notification.escalated.v1", topic=Topic.NOTIFICATIONS)
class NotificationEscalated(NotificationEvent):
    """An unacknowledged red alert climbed one step of the ladder (督办)."""

    alert_key: str
    project_id: str | None = None
    level: int = Field(ge=1, le=3, description="1 unit head, 2 sponsor leader, 3 district")
    contact: str = Field(description="who was notified at this level")
    escalated_at: dt.datetime


@event_type("sanpi.notification.acknowledged.v1", topic=Topic.NOTIFICATIONS)
class NotificationAcknowledged(NotificationEvent):
    """Someone acknowledged an alert (stops repeats) or an inbox item."""

    alert_key: str | None = None
    notification_id: str | None = None
    acknowledged_by: str
    acknowledged_at: dt.datetime


class SupervisionEvent(EventData):
    """About one 督办 item (supervision item): an escalated red alert followed until an official
    closes it; keyed by the item id, so that an item's events stay in order."""

    item_id: str
    alert_key: str
    project_id: str | None = None
    park: str | None = None
    unit: str | None = Field(default=None, description="责任单位 the item is assigned to")

    def partition_key(self) -> str:
        return self.item_id

    def subject(self) -> str | None:
        return self.item_id


@event_type("sanpi.notification.supervision_opened.v1", topic=Topic.NOTIFICATIONS)
class SupervisionOpened(SupervisionEvent):
    """An escalated, unacknowledged red alert became a 督办 item for a responsible unit."""

    contact_id: str | None = Field(
        default=None, description="the contact book entry it was sent to; null: none on file"
    )
    contact_name: str | None = None
    level: int = Field(ge=1, le=3, description="1 unit head, 2 sponsor leader, 3 district")
    opened_at: dt.datetime
    due_at: dt.datetime = Field(description="the response is due by then (working days)")


@event_type("sanpi.notification.supervision_responded.v1", topic=Topic.NOTIFICATIONS)
class SupervisionResponded(SupervisionEvent):
    """The responsible unit answered a 督办 item with its 整改说明."""

    response: str = Field(description="整改说明: what was done or will be done, and by when")
    responded_by: str
    responded_at: dt.datetime


@event_type("sanpi.notification.supervision_closed.v1", topic=Topic.NOTIFICATIONS)
class SupervisionClosed(SupervisionEvent):
    """An official closed a 督办 item (办结)."""

    closed_by: str
    closed_at: dt.datetime
    note: str | None = Field(default=None, description="办结意见")


@event_type("sanpi.notification.supervision_overdue.v1", topic=Topic.NOTIFICATIONS)
class SupervisionOverdue(SupervisionEvent):
    """A 督办 item was not answered by its due time: it climbs one level and gets a new due time."""

    level: int = Field(ge=1, le=3, description="the level it was re-escalated to")
    contact_id: str | None = None
    contact_name: str | None = Field(default=None, description="who it was re-escalated to")
    was_due_at: dt.datetime
    due_at: dt.datetime = Field(description="the new due time (working days)")
    overdue_count: int = Field(ge=1, description="how many times it has gone overdue")
