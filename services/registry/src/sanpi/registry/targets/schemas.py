"""Request and response models of the target API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import TargetKind
from sanpi.registry.projects.schemas import MAX_AMOUNT_WAN


class TargetSetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: int = Field(ge=2000, le=2100)
    scope: str = Field(min_length=1, max_length=64, description="the district, or one park")
    kind: TargetKind
    value: int = Field(ge=0, le=MAX_AMOUNT_WAN, description="万元 for amounts, 个 for counts")


class TargetPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    scope: str
    kind: TargetKind
    value: int
    set_by: str
    updated_at: dt.datetime
