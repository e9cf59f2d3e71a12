"""The form of the indicators page: which year, as of which day."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sanpi.kit import CampaignDate


class IndicatorQuery(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100)
    as_of: CampaignDate | None = None
