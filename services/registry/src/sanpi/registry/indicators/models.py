"""The funds projection: 到位资金 as the milestone service's progress reports give it, for 资金到位率."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class FundsReport(SQLModel, table=True):
    """A project's cumulative 到位资金 at the end of one report period (the milestone service owns
    the reports; sanpi.progress.reported.v1 brings this figure, a correction replaces it)."""

    __tablename__ = "funds_report"
    # 资金到位率 as of a day reads each project's latest period ended by then.
    __table_args__ = (Index("ix_funds_report_project_end", "project_id", "period_end"),)

    project_id: str = Field(primary_key=True, max_length=36)
    period_key: str = Field(primary_key=True, max_length=16)
    period_end: dt.date
    funds_arrived_cum: int = Field(description="到位资金, 万元")
