"""Response model of GET /v1/explain: the decision's steps, the deliveries and their attempts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from sanpi.notification.delivery.schemas import DeliveryPublic


class Outcome(StrEnum):
    PASSED = "passed"  # the step let the event through
    FAILED = "failed"  # the step stopped it: this subscription was not notified because of it
    NOT_SET = "not_set"  # the subscription does not use this condition: everything passes
    HELD = "held"  # quiet hours: the notification waits for their end
    INFO = "info"  # how the notification was sent (red at once, grouped, …)


class Verdict(StrEnum):
    NOTIFIED = "notified"  # a delivery carrying the event reached the channel
    HELD = "held"  # queued, waiting for the end of quiet hours
    PENDING = "pending"  # queued: grouping window, retry backoff or the next send
    FAILED = "failed"  # every attempt failed: a dead letter
    CANCELLED = "cancelled"  # queued, then withdrawn (its alert resolved first, …)
    FILTERED_OUT = "filtered_out"  # a filter condition of the subscription failed
    BEFORE_SUBSCRIPTION = "before_subscription"  # the event happened before it was made
    HISTORY = "history"  # older than the delivery log keeps when it arrived
    INACTIVE = "inactive"  # the subscription is paused or disabled
    LIVE_ONLY = "live_only"  # a stream subscription: only open connections saw it
    NOT_QUEUED = "not_queued"  # matches now, yet nothing was queued (see the summary)


class Step(BaseModel):
    step: str = Field(
        description="event, subscription, after_subscription, history, filter.<field> (one per "
        "filter condition), urgent, grouping, quiet_hours, conditions_changed (queued under "
        "conditions the subscription no longer has), delivery"
    )
    outcome: Outcome
    wanted: Any = Field(default=None, description="what the subscription asks for")
    actual: Any = Field(default=None, description="what the event carried")
    reason: str = Field(description="for people: Chinese, or English with Accept-Language: en")


class ExplainedEvent(BaseModel):
    id: str
    type: str | None = None
    time: dt.datetime | None = None
    received_at: dt.datetime | None = Field(
        default=None, description="when the notification service consumed it"
    )
    stored: bool = Field(
        description="whether the service's event log still holds it (kept stream_retention_s); "
        "when not, the answer is built from the deliveries that carried it"
    )
    routing: dict[str, Any] | None = Field(
        default=None, description="the attributes filters are applied to (park, severity, …)"
    )


class ExplainedDelivery(DeliveryPublic):
    reason: str = Field(default="", description="where this notification stands, for people")


class Explanation(BaseModel):
    subscription_id: str
    event: ExplainedEvent
    verdict: Verdict
    summary: str = Field(description="the answer in one sentence, for people")
    steps: list[Step]
    deliveries: list[ExplainedDelivery] = Field(
        default_factory=list,
        description="the notifications that carried the event to this subscription, then the "
        "reminders and escalations of its red alert, each with its attempts and answers",
    )
