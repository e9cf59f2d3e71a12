"""The 督办 item table: one per escalated red alert, from opening to 办结."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime


class ItemStatus(StrEnum):
    OPEN = "open"  # waiting for the responsible unit's 整改说明; overdue past due_at
    RESPONDED = "responded"  # answered, waiting for an official to close it
    CLOSED = "closed"  # 办结


class SupervisionItem(SQLModel, table=True):
    __tablename__ = "notification_supervision"
    __table_args__ = (
        # The open list by unit and park, soonest due first; the overdue scan: one index range.
        Index("ix_notification_supervision_status_due", "status", "due_at", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    alert_key: str = Field(max_length=200, index=True)
    # The alert subscription whose escalation opened it: its channel carries the messages when
    # the contact has only a mobile number to @-mention.
    subscription_id: str = Field(max_length=36)
    project_id: str | None = Field(default=None, max_length=64)
    park: str | None = Field(default=None, max_length=64, index=True)
    unit: str | None = Field(default=None, max_length=200, index=True)  # 责任单位
    contact_id: str | None = Field(default=None, max_length=36)
    contact_name: str | None = Field(default=None, max_length=200)
    level: int = 1
    status: str = Field(default=ItemStatus.OPEN, max_length=16)
    opened_at: dt.datetime = Field(sa_type=UTCDateTime)
    due_at: dt.datetime = Field(sa_type=UTCDateTime)
    overdue_count: int = 0
    response: str | None = Field(default=None, max_length=2000)  # 整改说明
    responded_by: str | None = Field(default=None, max_length=128)
    responded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=128)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_note: str | None = Field(default=None, max_length=2000)  # 办结意见
    version: int = 1
