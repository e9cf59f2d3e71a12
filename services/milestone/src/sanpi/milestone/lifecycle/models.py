"""Tracked projects (the registry's data this service needs, plus the stage it owns) and stage history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.events import Category, ChainTag, MilestoneKind, Stage
from sanpi.kit import UTCDateTime, utcnow


class TrackedProject(SQLModel, table=True):
    __tablename__ = "tracked_project"

    project_id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    park: str = Field(max_length=64, index=True)
    total_investment: int
    contract_amount: int | None = None
    annual_plan_investment: int | None = None
    chain_tag: ChainTag | None = Field(default=None, max_length=32)
    category: Category | None = Field(default=None, max_length=32)
    # 制造业: R15's 制造业签约额 and 制造业签约个数 count these signings.
    is_manufacturing: bool | None = None
    responsible_person: str | None = Field(default=None, max_length=128)
    responsible_unit: str | None = Field(default=None, max_length=128)
    sponsor_leader: str | None = Field(default=None, max_length=128)
    periods: list[int] = Field(default_factory=list, sa_type=JSON)
    signed_date: dt.date | None = None
    planned_fulfill_date: dt.date | None = None
    planned_start_date: dt.date | None = None
    planned_completion_date: dt.date | None = None
    planned_production_date: dt.date | None = None
    planned_effective_date: dt.date | None = None
    # The day the registry's event made the project known here (campaign date).
    registered_on: dt.date
    stage: Stage = Field(max_length=32, index=True)
    # Set exactly while SUSPENDED: the stage a resume returns to.
    resume_to: Stage | None = Field(default=None, max_length=32)
    stage_since: dt.date
    expected_resume_date: dt.date | None = None
    # The registry's master-data version last applied (older or repeated snapshots are ignored).
    registry_version: int = 1
    # Stage changes made so far: +1 with each, in its transaction, and carried by its
    # project.stage_changed as `version`, so that readers never apply an older one over a newer.
    stage_version: int = 0
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StageChange(SQLModel, table=True):
    """The audit trail of the stage: every change, with who, why and from which day."""

    __tablename__ = "stage_change"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=36, index=True)
    from_stage: Stage | None = Field(default=None, max_length=32)
    to_stage: Stage = Field(max_length=32)
    effective_date: dt.date
    reason: str = Field(max_length=32, description="REGISTERED, MILESTONE, …, CORRECTION")
    milestone_kind: MilestoneKind | None = Field(default=None, max_length=32)
    changed_by: str = Field(max_length=128)
    note: str | None = Field(default=None, max_length=2000)
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
