"""Request and response models of the listing API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, computed_field

from sanpi.events import BatchType
from sanpi.registry.periods.schemas import MAX_PERIOD
from sanpi.registry.projects.schemas import MAX_AMOUNT_WAN, yi


class ListingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: int = Field(ge=1, le=MAX_PERIOD, description="期 number")
    batch: BatchType
    listed_total_investment: int | None = Field(
        default=None, gt=0, le=MAX_AMOUNT_WAN, description="default: the project's 总投资, 万元"
    )
    listed_annual_plan: int | None = Field(
        default=None, ge=0, le=MAX_AMOUNT_WAN, description="default: its 年度计划投资, 万元"
    )


class ListingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    project_id: str
    period: int
    batch: BatchType
    listed_total_investment: int
    listed_annual_plan: int | None
    source_period: int | None
    listed_by: str
    listed_at: dt.datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def listed_total_investment_yi(self) -> float | None:
        return yi(self.listed_total_investment)
