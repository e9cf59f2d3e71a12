"""The stream log: every consumed event in arrival order, kept for Last-Event-ID resumes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class StreamEvent(SQLModel, table=True):
    __tablename__ = "notification_stream_event"
    # AUTOINCREMENT on SQLite: a sequence number is never reused, even after pruning every row,
    # so a client's Last-Event-ID can never point at a different event.
    __table_args__ = (
        # PostgreSQL's own name for it: databases made by create_all before migrations match.
        UniqueConstraint("event_id", name="notification_stream_event_event_id_key"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=128)
    routing: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    payload: str = Field(sa_type=Text)  # the CloudEvent, JSON
    appended_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
