"""Response models of the delivery log."""

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
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    attempt_log: list[AttemptPublic] = Field(default_factory=list)
