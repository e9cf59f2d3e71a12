"""Request and response models of the milestone API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import MilestoneKind, Stage


class TimelineEntry(BaseModel):
    at: dt.datetime
    kind: MilestoneKind
    date: dt.date
    evidence: list[str]
    recorded_by: str


class Timeline(BaseModel):
    project_id: str
    name: str
    park: str
    stage: Stage
    items: list[TimelineEntry]


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MilestoneKind
    date: dt.date = Field(description="the day it happened (Asia/Shanghai calendar)")
    evidence: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list,
        max_length=50,
        description="URIs of dated evidence: site photos, permits, contracts",
    )


class MilestonePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    kind: MilestoneKind
    date: dt.date
    evidence: list[str]
    recorded_by: str
    recorded_at: dt.datetime
    stage: Stage = Field(description="the project's stage after this milestone")
