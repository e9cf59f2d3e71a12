"""The listing table: which project is on which period's batch, with the amounts at listing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from sanpi.events import BatchType
from sanpi.kit import UTCDateTime, utcnow


class Listing(SQLModel, table=True):
    """(project, batch) is the key: a project is signed, started and produced once each, so it
    appears at most once on each kind of list (SIGN in 期n, START in 期n+1, PRODUCE in 期n+4)."""

    __tablename__ = "listing"
    __table_args__ = (Index("ix_listing_period_batch", "period", "batch", "project_id"),)

    project_id: str = Field(primary_key=True, max_length=36)
    batch: BatchType = Field(primary_key=True, max_length=16)
    period: int
    listed_total_investment: int = Field(description="总投资 at listing, 万元")
    listed_annual_plan: int | None = Field(default=None, description="年度计划投资, 万元")
    source_period: int | None = Field(default=None, description="PRODUCE: the START period")
    listed_by: str = Field(max_length=128)
    listed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
