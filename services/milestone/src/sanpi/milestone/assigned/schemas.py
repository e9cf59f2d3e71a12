"""Request and response models of assigned issues (交办事项)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import IssueCategory, IssueStatus, IssueTerm


class IssueState(StrEnum):
    """The list's `status`: open (OPEN or IN_PROGRESS) or closed out (销号)."""

    OPEN = "open"
    CLOSED = "closed"


class IssueOrder(StrEnum):
    """The list's `order`: as raised (created_at, id) or the earliest due first (due_on, id)."""

    CREATED = "created"
    DUE = "due"


class IssueCreate(BaseModel):
    """A problem assigned to a responsible unit. `assigned_unit` and `description` are required;
    they default to empty only so that a missing one is refused in the reader's language."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: IssueCategory = Field(
        default=IssueCategory.OTHER,
        description="LAND 用地手续, APPROVAL 审批手续, FUNDING 资金, POWER 电力接入, "
        "DEMOLITION 征迁, OTHER 其他",
    )
    description: str = Field(default="", max_length=2000, description="the problem (required)")
    assigned_unit: str = Field(default="", max_length=128, description="责任单位 (required)")
    term: IssueTerm = Field(
        default=IssueTerm.ROUTINE,
        description="ROUTINE: due 7 working days after raised_on; MAJOR: 1 month",
    )
    raised_by: str | None = Field(
        default=None, max_length=128, description="who raised it; default: the caller"
    )
    raised_on: dt.date | None = Field(default=None, description="default: today")
    due_on: dt.date | None = Field(
        default=None, description="a deadline set by hand instead of the 13710 term"
    )


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(default="", max_length=4000, description="what was done (required)")
    version: int | None = Field(
        default=None,
        ge=1,
        description="the issue's version you read; 409 if it is no longer current (or send "
        "If-Match with its ETag: 412)",
    )


class IssueClose(BaseModel):
    """销号: the issue is solved; at least one evidence URI (an http(s) URL, or an uploaded photo
    /v1/evidence/{id} of the project)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    evidence: list[str] = Field(default_factory=list, max_length=20)
    closed_on: dt.date | None = Field(default=None, description="default: today")
    note: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(
        default=None,
        ge=1,
        description="the issue's version you read; 409 if it is no longer current (or send "
        "If-Match with its ETag: 412)",
    )


class FeedbackPublic(BaseModel):
    id: str
    by: str
    at: dt.datetime
    text: str


class IssuePublic(BaseModel):
    id: str
    project_id: str
    project_name: str | None = Field(
        default=None, description="the project's name (null for a project not tracked here)"
    )
    park: str | None = Field(default=None, description="the project's park")
    category: IssueCategory
    category_label: str = Field(description="the category in Chinese")
    description: str
    assigned_unit: str
    term: IssueTerm
    raised_by: str
    raised_on: dt.date
    feedback_due_on: dt.date
    due_on: dt.date
    red_on: dt.date = Field(description="twice the allowed time: R12 turns red after it")
    status: IssueStatus
    overdue_days: int = Field(
        description="days past due_on today (open) or when closed; 0 when not late"
    )
    first_feedback_on: dt.date | None
    closed_on: dt.date | None
    closed_by: str | None
    closing_note: str | None
    evidence: list[str]
    recorded_by: str
    created_at: dt.datetime
    version: int = Field(
        description="+1 with each feedback and the closing: send it back as `version` (or "
        "If-Match with the ETag) when giving feedback or closing, so that no one's change is "
        "overwritten"
    )
    feedback: list[FeedbackPublic] = Field(
        default_factory=list,
        description="oldest first (on a single issue's answers, and on lists with feedback=true)",
    )
