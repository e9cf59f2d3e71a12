"""The project table: master data owned by the registry, plus the stage as a read-only projection."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from sanpi.events import CancelReason, Category, ChainTag, EnterpriseOrigin, FundingOrigin, Stage
from sanpi.kit import UTCDateTime, utcnow


class Project(SQLModel, table=True):
    __tablename__ = "project"
    # The list endpoint filters by park/stage/category/chain and sorts by created_at, name or
    # amount; each composite index ends with id so a keyset page is one index range scan.
    __table_args__ = (
        Index("ix_project_created_id", "created_at", "id"),
        Index("ix_project_name_id", "name", "id"),
        Index("ix_project_total_id", "total_investment", "id"),
        Index("ix_project_park_created", "park", "created_at", "id"),
        Index("ix_project_stage_created", "stage", "created_at", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    park: str = Field(max_length=64)
    category: Category | None = Field(default=None, max_length=32, index=True)
    chain_tag: ChainTag | None = Field(default=None, max_length=32, index=True)
    is_manufacturing: bool = Field(default=False, index=True)
    funding_origin: FundingOrigin | None = Field(default=None, max_length=32)
    enterprise_name: str | None = Field(default=None, max_length=200, index=True)
    enterprise_uscc: str | None = Field(default=None, max_length=18)
    enterprise_origin: EnterpriseOrigin | None = Field(default=None, max_length=32)
    enterprise_origin_region: str | None = Field(default=None, max_length=64)
    total_investment: int = Field(description="总投资, 万元")
    contract_amount: int | None = Field(default=None, description="签约额, 万元")
    annual_plan_investment: int | None = Field(default=None, description="年度计划投资, 万元")
    construction_content: str | None = Field(default=None, sa_type=Text)
    expected_annual_output: int | None = Field(default=None, description="预计年产值, 万元")
    expected_jobs: int | None = None
    responsible_unit: str | None = Field(default=None, max_length=200)
    responsible_person: str | None = Field(default=None, max_length=100)
    sponsor_leader: str | None = Field(default=None, max_length=100)
    national_project_code: str | None = Field(default=None, max_length=32, index=True)
    signed_date: dt.date | None = None
    planned_fulfill_date: dt.date | None = None
    planned_start_date: dt.date | None = None
    planned_completion_date: dt.date | None = None
    planned_production_date: dt.date | None = None
    planned_effective_date: dt.date | None = None
    initial_stage: Stage = Field(default=Stage.SIGNED, max_length=32)
    # Written only from project.stage_changed: the milestone service owns the lifecycle. The
    # dates are those the stage was reached on, so indicators can be computed "as of" a day.
    stage: Stage = Field(default=Stage.SIGNED, max_length=32)
    fulfilled_date: dt.date | None = None
    # For a project registered already under construction, the start date it declared.
    started_date: dt.date | None = None
    production_date: dt.date | None = None
    effective_date: dt.date | None = None
    # The version of the last project.stage_changed applied (0: the stage is the registration's,
    # or came only from changes published without a version); an older one never moves it.
    stage_version: int = Field(default=0)
    # Cancellation is a registry command (project.cancelled); the stage follows from milestone.
    cancelled_on: dt.date | None = None
    cancel_reason_code: CancelReason | None = Field(default=None, max_length=32)
    cancel_reason: str | None = Field(default=None, max_length=500)
    # Optimistic concurrency on master data (If-Match); stage updates do not bump it.
    version: int = Field(default=1)
    created_by: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
