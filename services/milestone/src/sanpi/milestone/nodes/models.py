"""The milestone plan: one row per project and kind (CUSTOM ones by label), baseline to actual,
and the named baselines of its approved changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.events import MilestoneKind
from sanpi.events.vocabulary import MilestoneStatus as MilestoneStatus
from sanpi.kit import UTCDateTime, utcnow


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone_node"
    # Constraint names are PostgreSQL's defaults: databases made by create_all before
    # migrations carry the same names.
    __table_args__ = (
        UniqueConstraint(
            "project_id", "kind", "label", name="milestone_node_project_id_kind_label_key"
        ),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36, index=True)
    kind: MilestoneKind = Field(max_length=32)
    label: str = Field(default="", max_length=100, description="names a CUSTOM milestone")
    baseline_date: dt.date | None = None
    forecast_date: dt.date | None = None
    actual_date: dt.date | None = None
    # [{"uri": ..., "taken_at": "2023-03-01" | null}]
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: MilestoneStatus = Field(default=MilestoneStatus.PENDING, max_length=16)
    recorded_by: str | None = Field(default=None, max_length=128)
    recorded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MilestoneBaseline(SQLModel, table=True):
    """A named, approved change of a project's plan (e.g. 2023年中调整): who approved it, why,
    and every milestone's planned date right after it. The original plan is not stored here:
    it is each milestone's baseline_date, which never moves."""

    __tablename__ = "milestone_baseline"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="milestone_baseline_project_id_name_key"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36, index=True)
    name: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    approved_by: str = Field(max_length=128)
    approved_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The campaign day the change took effect: the evaluation day when it was approved (the
    # pinned day of a demo, else today). A preview of an earlier day judges the plan before it.
    effective_on: dt.date | None = Field(default=None)
    # [{"kind": "STARTED", "label": "", "date": "2023-09-30"}], every planned milestone
    dates: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
