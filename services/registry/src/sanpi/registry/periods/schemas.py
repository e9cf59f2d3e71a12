"""Request and response models of the period API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import PeriodStatus
from sanpi.kit import CampaignDate

# 期 numbers: four a year for two centuries. Also keeps path and query numbers inside a database
# integer (a 20-digit number used to reach SQLite/PostgreSQL and answer 500).
MAX_PERIOD = 1000


class PeriodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1, le=MAX_PERIOD, description="期 number: 7 = 第七期")
    event_date: CampaignDate = Field(description="活动日期, e.g. 2023-01-28")
    quarter: str | None = Field(
        default=None, pattern=r"^\d{4}Q[1-4]$", description="default: the event date's, 2023Q1"
    )


class PeriodPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    event_date: dt.date
    quarter: str
    status: PeriodStatus
    created_at: dt.datetime
    updated_at: dt.datetime
