"""The period table: one row per 期, keyed by its number."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from sanpi.events import PeriodStatus
from sanpi.kit import UTCDateTime, utcnow


class Period(SQLModel, table=True):
    __tablename__ = "period"

    number: int = Field(primary_key=True, description="期 number: 7 = 第七期")
    event_date: dt.date = Field(index=True)
    quarter: str = Field(max_length=6, description="e.g. 2023Q1")
    status: PeriodStatus = Field(default=PeriodStatus.OPEN_FOR_DECLARATION, max_length=32)
    created_by: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
