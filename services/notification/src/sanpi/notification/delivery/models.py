"""Deliveries (one notification to one subscription), the events each carries, and its attempts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Sequence, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


def new_delivery_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its release (grouping window, quiet hours) or next attempt
    DELIVERED = "DELIVERED"  # the receiver accepted it (webhook 2xx, SMTP 250, inbox stored)
    DEAD = "DEAD"  # a dead letter: attempts exhausted, 410 Gone, or subscription disabled
    CANCELLED = "CANCELLED"  # never sent: its alert resolved first, or the subscription went


# Where a delivery stands in its subscription's queue (PostgreSQL; SQLite, which has one writer,
# counts on from the highest). Not transactional, so two replicas fanning out never wait on it.
POSITION = Sequence("delivery_position", metadata=SQLModel.metadata)


class Delivery(SQLModel, table=True):
    """One notification to one subscription: an event, a digest of grouped alerts, a reminder of a
    red alert, or an escalation e-mail to a contact on the ladder."""

    __tablename__ = "delivery"
    __table_args__ = (
        # A delivery with an order key waits for the pending ones of its key queued before it:
        # the claim asks this for every candidate, over the pending rows only.
        Index(
            "ix_delivery_pending_order",
            "subscription_id",
            "order_key",
            "position",
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
        # The claim takes the first due of the pending rows in this order (repository.due):
        # without it SQLite sorted every pending row for each claim (40 ms at 10,000 pending,
        # 0.1 ms with it), and a finished row's old due time stays out of the walk.
        Index(
            "ix_delivery_pending_due",
            "next_attempt_at",
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    # Also the webhook-id header: stable across retries, so receivers can de-duplicate too.
    id: str = Field(default_factory=new_delivery_id, primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=36, index=True)
    channel: str = Field(max_length=16)
    # Overrides the subscription's target (escalation e-mails go to the contact, not the owner).
    target: str | None = Field(default=None, max_length=2000)
    kind: str = Field(default="EVENT", max_length=16)
    # Non-red alerts of one evaluation pass for one park share a group until the window closes.
    group_key: str | None = Field(default=None, max_length=200, index=True)
    alert_key: str | None = Field(default=None, max_length=200, index=True)
    severity: str | None = Field(default=None, max_length=8)
    # The first event carried (its type and time drive the latency metric).
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=128)
    event_time: dt.datetime = Field(sa_type=UTCDateTime)
    # The project a plain event notification is about: a subscription's notifications of one
    # project leave one at a time, in `position` order (None: no order, e.g. a red alert).
    order_key: str | None = Field(default=None, max_length=64)
    position: int | None = Field(default=None, sa_type=BigInteger)
    repeat: int = 0
    escalation_level: int = 0
    # A 督办 message: the item it is about and the contact-book entry it goes to (whose robot
    # secret and @-mentioned mobile are read when it is sent).
    supervision_id: str | None = Field(default=None, max_length=36)
    contact_id: str | None = Field(default=None, max_length=36)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    # Attempts made before the last dead-letter replay: each replay gets a full set of tries.
    attempts_before_replay: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # The claim in flight: each claim writes a new token, and an outcome is recorded only under
    # the token it was claimed with (a sender slower than its lease, re-claimed meanwhile, has
    # its late outcome dropped). `leased_until` is real time (utcnow), not the injectable clock
    # the rules read: a lease bounds how long a sender may take, and that clock moved days
    # ahead (a test's FixedClock) must not end it under a sender still at work.
    lease_token: str | None = Field(default=None, max_length=32)
    leased_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while a channel's rate limit holds the delivery back unattempted (a group robot's
    # window, channels/ledger.py): real time too, as the vendor's minute is, so a deferral comes
    # due on the wall clock whatever the rules' clock reads (a FixedClock never reached it).
    deferred_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when quiet hours hold the delivery: the morning it will leave.
    held_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    # Indexed for the pruner (delivery_retention_days), which takes the oldest first.
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=128)


class DeliveryEvent(SQLModel, table=True):
    """An event carried by a delivery. The unique pair is what makes a redelivered Kafka record
    unable to reach a person twice, grouped or not."""

    __tablename__ = "delivery_event"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_delivery_event_sub_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=40, index=True)
    subscription_id: str = Field(max_length=36)
    event_id: str = Field(max_length=64)
    project_name: str | None = Field(default=None, max_length=300)
    payload: str = Field(sa_type=Text)  # the CloudEvent, JSON


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
