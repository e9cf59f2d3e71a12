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
