"""The digests sent: one row per subscription, kind and slot, so that a slot is sent once."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class DigestSent(SQLModel, table=True):
    """A digest queued for delivery. The unique (subscription, kind, slot) is what keeps two
    replicas, or a restart in the middle of a pass, from sending one slot twice: the second
    insert fails and its transaction (with its delivery) rolls back."""

    __tablename__ = "notification_digest"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", "slot", name="uq_digest_sub_kind_slot"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    subscription_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=8)  # daily | xun
    # The slot's Asia/Shanghai day ("2025-09-28") for a daily digest, the 旬 ("2025-09-X3") for
    # a 旬 digest.
    slot: str = Field(max_length=16)
    # When the slot was due (UTC), and the window its content covers: from the previous digest
    # of this kind (or the subscription's creation) to when this one was made.
    due_at: dt.datetime = Field(sa_type=UTCDateTime)
    window_start: dt.datetime = Field(sa_type=UTCDateTime)
    window_end: dt.datetime = Field(sa_type=UTCDateTime)
    turned_red: int = 0
    still_red: int = 0
    resolved: int = 0
    delivery_id: str = Field(max_length=40)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DigestBulletin(SQLModel, table=True):
    """The bulletin (通报) of a 旬 as the milestone service's API gave it when that 旬's digests
    were made: fetched once for every subscriber, kept with the digests so that an e-mail
    retried hours later attaches the same file, whether the milestone service answers then or
    not. About 100 KB a 旬 (36 a year)."""

    __tablename__ = "notification_digest_bulletin"

    period: str = Field(primary_key=True, max_length=16)  # 2023-03-X2
    filename: str = Field(max_length=64)  # 通报-2023-03-X2.pdf
    content: bytes = Field(sa_type=LargeBinary)
    fetched_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
