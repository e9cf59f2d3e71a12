"""The milestone table: one row per recorded milestone, with its evidence."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.events import MilestoneKind
from sanpi.kit import UTCDateTime, utcnow


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36, index=True)
    kind: MilestoneKind = Field(max_length=32)
    date: dt.date
    evidence: list[str] = Field(default_factory=list, sa_type=JSON)
    recorded_by: str = Field(max_length=128)
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
