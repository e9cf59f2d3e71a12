"""The timeline table: one row per event that touched a project, in the order it happened here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=36, index=True)
    event_type: str = Field(max_length=128, description="e.g. sanpi.progress.reported.v1")
    event_id: str | None = Field(default=None, max_length=64)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    by: str | None = Field(default=None, max_length=128)
    summary: str = Field(max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
