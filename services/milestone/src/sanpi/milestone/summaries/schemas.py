"""Response models of project summaries."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from sanpi.events import Category, ChainTag, MilestoneKind, ReportPeriodKind, Severity, Stage
from sanpi.kit import Page


class LastReport(BaseModel):
    period_key: str
    period_kind: ReportPeriodKind
    period_end: dt.date
    submitted_on: dt.date
    late: bool
    completed_investment_cum: int = Field(description="累计完成投资, 万元")


class NextMilestone(BaseModel):
    kind: MilestoneKind
    label: str
    date: dt.date = Field(description="the forecast date, else the baseline")
    overdue: bool


class ReportDue(BaseModel):
    period_key: str = Field(description="the 旬 whose report is due next")
    deadline: dt.date
    overdue: bool


class ProjectSummary(BaseModel):
    project_id: str
    name: str
    park: str
    stage: Stage
    stage_since: dt.date
    chain_tag: ChainTag | None
    category: Category | None
    total_investment: int = Field(description="总投资, 万元")
    periods: list[int] = Field(description="期 the project was listed in")
    responsible_person: str | None
    colour: Severity = Field(description="its worst firing alert; green when none fires")
    firing: dict[Severity, int] = Field(description="firing alerts by severity")
    last_report: LastReport | None
    next_milestone: NextMilestone | None = Field(description="the earliest milestone not achieved")
    report_due: ReportDue | None = Field(
        description="the next 旬 report owed (only for projects that report: signed to in production)"
    )


class SummariesPage(Page[ProjectSummary]):
    as_of: dt.date = Field(
        description="the evaluation day colours and deadlines are for (the pinned one in demos)"
    )
