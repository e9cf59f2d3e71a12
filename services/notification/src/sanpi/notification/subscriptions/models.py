"""The subscription table: owned by the token subject that created it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    owner: str = Field(max_length=128, index=True)
    channel: str = Field(max_length=16)
    url: str | None = Field(default=None, max_length=2000)
    secret: str | None = Field(default=None, max_length=128)
    # Event types (exact, or a prefix pattern ending in *); empty means every event.
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
