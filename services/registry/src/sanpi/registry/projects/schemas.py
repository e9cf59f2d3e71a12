"""Request and response models of the project API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, computed_field, field_validator

from sanpi.events import Stage

# 1万亿 (10^8 万元): larger than any single project on record (the biggest province listings are
# a few hundred 亿), so anything above is a typing error, not an investment.
MAX_AMOUNT_WAN = 100_000_000


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="项目名称")
    park: str = Field(min_length=1, max_length=64, description="所属园区, e.g. 梧桐")
    total_investment: int = Field(gt=0, le=MAX_AMOUNT_WAN, description="总投资, integer 万元")
    planned_start_date: dt.date | None = Field(default=None, description="计划开工日期")
    planned_production_date: dt.date | None = Field(default=None, description="计划投产日期")
    initial_stage: Literal[Stage.SIGNED, Stage.UNDER_CONSTRUCTION] = Stage.SIGNED

    @field_validator("planned_production_date")
    @classmethod
    def _production_after_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("planned_start_date")
        if value is not None and start is not None and value < start:
            raise ValueError(f"must not be before planned_start_date ({start})")
        return value


class ProjectPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    park: str
    total_investment: int = Field(description="总投资, 万元")
    planned_start_date: dt.date | None
    planned_production_date: dt.date | None
    stage: Stage
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @computed_field(description="总投资 in 亿元, for display")  # type: ignore[prop-decorator]
    @property
    def total_investment_yi(self) -> float:
        return round(self.total_investment / 10_000, 2)
