"""Request and response models of the lifecycle commands."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import Stage
from sanpi.kit import CampaignDate


class SuspendCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: CampaignDate | None = Field(default=None, description="停工 day; default today")
    reason: str = Field(min_length=1, max_length=2000)
    expected_resume_date: CampaignDate | None = Field(
        default=None, description="复工 plan; without one R11 turns red after 30 days"
    )


class ResumeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: CampaignDate | None = Field(default=None, description="复工 day; default today")
    note: str | None = Field(default=None, max_length=2000)


class CorrectionCreate(BaseModel):
    """An admin's audited correction of a wrongly recorded stage (data-entry error)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    to_stage: Stage
    reason: str = Field(min_length=1, max_length=2000, description="why: recorded on the event")
    date: CampaignDate | None = Field(default=None, description="default today")


class StagePublic(BaseModel):
    project_id: str
    stage: Stage
    resume_to: Stage | None
    stage_since: dt.date
    expected_resume_date: dt.date | None
