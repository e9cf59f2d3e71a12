"""The administrator's forms: a new period, a listing."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sanpi.events import BatchType
from sanpi.kit import CampaignDate


class PeriodForm(BaseModel):
    number: int = Field(ge=1, le=1000)
    event_date: CampaignDate


class ListingForm(BaseModel):
    project: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:\-][A-Za-z0-9._:\-]{0,63}$"
    )
    batch: BatchType
