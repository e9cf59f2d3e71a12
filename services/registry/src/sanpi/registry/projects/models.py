"""The project table: master data owned by the registry, plus the stage as a read-only projection."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Field, SQLModel

from sanpi.events import Stage
from sanpi.kit import UTCDateTime, utcnow


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    name: str = Field(max_length=200, index=True)
    park: str = Field(max_length=64, index=True)
    total_investment: int = Field(description="总投资, 万元")
    planned_start_date: dt.date | None = None
    planned_production_date: dt.date | None = None
    # Written only from project.stage_changed: the milestone service owns the lifecycle.
    stage: Stage = Field(default=Stage.SIGNED, max_length=32, index=True)
    # Optimistic concurrency on master data (If-Match); stage updates do not bump it.
    version: int = Field(default=1)
    created_by: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
