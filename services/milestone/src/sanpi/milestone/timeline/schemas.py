"""Response models of a project's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from sanpi.events import Stage


class TimelineItem(BaseModel):
    seq: int = Field(description="order in which this service saw it")
    at: dt.datetime
    event_type: str
    event_id: str | None
    by: str | None
    summary: str
    data: dict[str, Any]


class Timeline(BaseModel):
    project_id: str
    name: str
    park: str
    stage: Stage
    items: list[TimelineItem]
    next_cursor: str | None = None
