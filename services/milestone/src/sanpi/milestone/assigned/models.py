"""Assigned issues (交办事项) and their feedback entries."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from sanpi.events import IssueCategory, IssueStatus, IssueTerm
from sanpi.kit import UTCDateTime, utcnow


class AssignedIssue(SQLModel, table=True):
    __tablename__ = "assigned_issue"
    __table_args__ = (
        Index("ix_assigned_issue_created", "created_at", "id"),
        # The rules load the open issues of a chunk of projects.
        Index("ix_assigned_issue_project_status", "project_id", "status"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36)
    category: IssueCategory = Field(max_length=16)
    description: str = Field(sa_type=Text)
    assigned_unit: str = Field(max_length=128, index=True)
    term: IssueTerm = Field(max_length=16)
    raised_by: str = Field(max_length=128)
    raised_on: dt.date
    feedback_due_on: dt.date
    feedback_red_on: dt.date
    due_on: dt.date
    red_on: dt.date
    status: IssueStatus = Field(default=IssueStatus.OPEN, max_length=16)
    first_feedback_on: dt.date | None = None
    closed_on: dt.date | None = None
    closed_by: str | None = Field(default=None, max_length=128)
    closing_note: str | None = Field(default=None, sa_type=Text)
    evidence: list[str] = Field(default_factory=list, sa_type=JSON)
    recorded_by: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Optimistic concurrency (ETag/If-Match, or the body's `version`): each feedback and the
    # closing bump it, so that two officials acting on one issue cannot overwrite each other.
    version: int = Field(default=1)


class IssueFeedback(SQLModel, table=True):
    __tablename__ = "assigned_issue_feedback"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    issue_id: str = Field(max_length=36, index=True)
    project_id: str = Field(max_length=36)
    by: str = Field(max_length=128)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    text: str = Field(sa_type=Text)
