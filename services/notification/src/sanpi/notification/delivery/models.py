"""Deliveries and the log of their attempts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    DEAD = "DEAD"  # attempts exhausted, or the receiver said 410 Gone


class Delivery(SQLModel, table=True):
    """The notification of one event to one subscription. The unique pair is what makes a
    redelivered Kafka record unable to reach a person twice."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_delivery_sub_event"),
    )

    # Also the webhook-id header: stable across retries, so receivers can de-duplicate too.
    id: str = Field(
        default_factory=lambda: f"msg_{uuid.uuid4().hex}", primary_key=True, max_length=40
    )
    subscription_id: str = Field(max_length=36, index=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=128)
    event_time: dt.datetime = Field(sa_type=UTCDateTime)
    payload: str = Field(sa_type=Text)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One try: when, what the receiver answered, how long it took."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=40, index=True)
    number: int
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0
