"""The filters of the 交办事项 list and its three forms (raise, feedback, close)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import IssueCategory, IssueTerm


class IssueFilters(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    state: Literal["open", "closed"] = "open"
    park: str | None = Field(default=None, max_length=64)
    overdue: bool = False
    unit: str | None = Field(default=None, max_length=128)
    cursor: str | None = Field(default=None, max_length=400)


class RaiseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    description: str = Field(min_length=1, max_length=2000)
    assigned_unit: str = Field(min_length=1, max_length=128)
    category: IssueCategory = IssueCategory.OTHER
    term: IssueTerm = IssueTerm.ROUTINE
    due_on: dt.date | None = None


class FeedbackForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    issue_id: str = Field(min_length=1, max_length=36)
    text: str = Field(min_length=1, max_length=4000)
    # The issue's version the page showed: refused (412) if someone wrote the issue since.
    version: int | None = Field(default=None, ge=1)


class CloseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    issue_id: str = Field(min_length=1, max_length=36)
    # One evidence link a line: a permit's or letter's address, or a site photo of the project.
    evidence: str = Field(min_length=1, max_length=4000)
    note: str | None = Field(default=None, max_length=2000)
    # The issue's version the page showed: refused (412) if someone wrote the issue since.
    version: int | None = Field(default=None, ge=1)

    def evidence_list(self) -> list[str]:
        return [line.strip() for line in self.evidence.splitlines() if line.strip()]
