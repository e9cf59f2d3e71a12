"""Request and response models of 督办 items."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from sanpi.kit import Page


class RespondRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    response: str = Field(
        min_length=1,
        max_length=2000,
        description="整改说明，如：已约谈企业，承诺6月30日前完成设备进场",
    )


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=2000, description="办结意见")


class StatusFilter(StrEnum):
    ACTIVE = "active"  # open or responded: not closed yet
    OPEN = "open"
    RESPONDED = "responded"
    CLOSED = "closed"
    ALL = "all"


class SupervisionItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alert_key: str
    rule: str = Field(description="R01…R18, the first part of the alert key")
    project_id: str | None
    project_name: str | None = None
    title: str | None = Field(default=None, description="the alert's title")
    title_en: str | None = Field(default=None, description="the alert's title in English")
    park: str | None
    unit: str | None = Field(description="责任单位")
    contact_id: str | None
    contact_name: str | None
    level: int = Field(description="1 unit head, 2 sponsor leader, 3 district")
    status: str = Field(description="open, responded or closed")
    opened_at: dt.datetime
    due_at: dt.datetime
    overdue: bool = Field(description="open and past its due time")
    overdue_count: int
    response: str | None
    responded_by: str | None
    responded_at: dt.datetime | None
    closed_by: str | None
    closed_at: dt.datetime | None
    close_note: str | None
    version: int


class SupervisionPage(Page[SupervisionItemPublic]):
    pass
