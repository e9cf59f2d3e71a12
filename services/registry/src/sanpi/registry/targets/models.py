"""The target table: one value per (year, scope, kind)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from sanpi.events import TargetKind
from sanpi.kit import UTCDateTime, utcnow


class Target(SQLModel, table=True):
    __tablename__ = "target"

    year: int = Field(primary_key=True)
    scope: str = Field(primary_key=True, max_length=64, description="the district or one park")
    kind: TargetKind = Field(primary_key=True, max_length=32)
    value: int = Field(description="万元 for amounts, 个 for counts")
    set_by: str = Field(max_length=128)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
