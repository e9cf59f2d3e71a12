"""Response models of the delivery log and the dead-letter replay."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.notification.delivery.models import DeliveryStatus


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="also the webhook-id header the receiver saw")
    subscription_id: str
    channel: str
    kind: str = Field(
        description="EVENT, DIGEST (grouped alerts), REPEAT, ESCALATION, TEST, DAILY_DIGEST or "
        "XUN_DIGEST (a subscription's scheduled digest)"
    )
    alert_key: str | None
    severity: str | None
    event_id: str = Field(description="the first event carried")
    event_ids: list[str] = Field(default_factory=list, description="every event carried")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime = Field(
        description="when it is due; a worker's claim leaves it as it was (see leased_until)"
    )
    leased_until: dt.datetime | None = Field(
        default=None,
        description="set while a worker is sending it: another takes it over from then if "
        "no outcome came (real time)",
    )
    held_until: dt.datetime | None = Field(description="set while quiet hours hold it")
    deferred_until: dt.datetime | None = Field(
        default=None, description="set while a group robot's rate limit holds it (real time)"
    )
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    attempt_log: list[AttemptPublic] = Field(default_factory=list)


class ReplayRequest(BaseModel):
    """Which dead letters to put back in the queue: of one subscription, these ids, or (empty)
    every dead letter of the caller's subscriptions."""

    model_config = ConfigDict(extra="forbid")

    subscription_id: str | None = None
    delivery_ids: list[str] = Field(default_factory=list, max_length=1000)


class Skipped(BaseModel):
    id: str
    reason: str


class ReplayResult(BaseModel):
    replayed: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
