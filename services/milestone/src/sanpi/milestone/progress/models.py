"""Investment plans (per project and year) and progress reports (per 旬 or month)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.events import ReportPeriodKind
from sanpi.kit import UTCDateTime, utcnow


class InvestmentPlan(SQLModel, table=True):
    __tablename__ = "investment_plan"
    # Constraint names are PostgreSQL's defaults: databases made by create_all before
    # migrations carry the same names.
    __table_args__ = (
        UniqueConstraint("project_id", "year", name="investment_plan_project_id_year_key"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36, index=True)
    year: int
    annual_plan: int = Field(description="年度计划投资, 万元")
    monthly: list[int] | None = Field(default=None, sa_type=JSON)
    xun: list[int] | None = Field(default=None, sa_type=JSON)
    # REGISTRY (from 年度计划投资 in the registry's events) or API (set here, which wins).
    source: str = Field(default="API", max_length=16)
    set_by: str = Field(max_length=128)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProgressReport(SQLModel, table=True):
    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint(
            "project_id", "period_key", name="progress_report_project_id_period_key_key"
        ),
        # Evaluation reads a project's reports of the last 90 days and the highest figures of
        # the older ones (see progress.repository.recent_report_facts): by this index alone for
        # the older ones, and without reading the ~80 older rows for the recent ones. A full
        # pass at province scale: 0.95 → 0.47 CPU-s in SQLite. Its first column serves the
        # queries by project that had an index of their own.
        Index(
            "ix_progress_report_project_end",
            "project_id",
            "period_end",
            "completed_investment_cum",
            "physical_progress_pct",
        ),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36)
    period_kind: ReportPeriodKind = Field(max_length=8)
    period_key: str = Field(max_length=16)
    period_end: dt.date
    completed_investment_cum: int
    completed_investment_ytd: int
    funds_arrived_cum: int | None = None
    physical_progress_pct: float | None = None
    narrative: str = Field(default="", max_length=4000)
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    deadline: dt.date
    submitted_on: dt.date
    late: bool = False
    correction: bool = False
    # A correction that lowered the cumulative figure: a data-quality fact for R16.
    lowered_by_correction: bool = False
    reported_by: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
