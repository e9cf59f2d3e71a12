"""Tracked projects: the milestone service's projection of the registry plus the stage it owns."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from sanpi.events import Stage
from sanpi.kit import UTCDateTime, utcnow


class TrackedProject(SQLModel, table=True):
    __tablename__ = "tracked_project"

    project_id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    park: str = Field(max_length=64, index=True)
    total_investment: int
    planned_start_date: dt.date | None = None
    planned_production_date: dt.date | None = None
    stage: Stage = Field(max_length=32, index=True)
    # The registry's master-data version last applied (events are applied in order per project).
    registry_version: int = 1
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
