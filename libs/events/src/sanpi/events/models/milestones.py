"""Events of the milestone service, on sanpi.milestones: stages, milestones, progress reports,
assigned issues (交办事项)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from sanpi.events.catalog import event_type
from sanpi.events.models.base import ProjectEvent
from sanpi.events.topics import Topic
from sanpi.events.vocabulary import (
    IssueCategory,
    IssueTerm,
    MilestoneKind,
    ReportPeriodKind,
    Stage,
)


@event_type("sanpi.project.stage_changed.v1", topic=Topic.MILESTONES)
class ProjectStageChanged(ProjectEvent):
    """The lifecycle stage of a project changed; the milestone service is its only writer."""

    from_stage: Stage
    to_stage: Stage
    effective_date: dt.date
    reason: Literal["MILESTONE", "SUSPENDED", "RESUMED", "CANCELLED", "CORRECTION"]
    milestone_kind: MilestoneKind | None = None
    evidence: list[str] = Field(default_factory=list)
    changed_by: str
    note: str | None = Field(default=None, description="reason text of a suspension or correction")
    version: int | None = Field(
        default=None,
        ge=1,
        description="the project's stage version in the milestone service: 1 for its first stage "
        "change, +1 with each (written in the change's transaction); a reader applies a change "
        "only when this is above the version it holds. Absent on events published before it "
        "existed",
    )


class EvidencePhoto(BaseModel):
    """A photo uploaded to the milestone service (POST /v1/projects/{id}/evidence) that a
    milestone cites."""

    evidence_id: str
    uri: str = Field(description="/v1/evidence/{evidence_id}, as in `evidence`")
    sha256: str = Field(description="of the file's bytes")
    captured_on: dt.date | None = Field(
        default=None, description="the day its EXIF says it was taken (Asia/Shanghai); null: none"
    )
    date_matches: bool = Field(description="captured_on is the milestone's date")


@event_type("sanpi.milestone.achieved.v1", topic=Topic.MILESTONES)
class MilestoneAchieved(ProjectEvent):
    """A milestone was reached on a date, with its evidence (URIs of site photos, permits…)."""

    milestone_id: str
    kind: MilestoneKind
    date: dt.date
    evidence: list[str] = Field(default_factory=list)
    recorded_by: str
    photos: list[EvidencePhoto] = Field(
        default_factory=list,
        description="the uploaded photos among `evidence`, with their checksum and capture day "
        "(added in the same version: absent means none)",
    )


@event_type("sanpi.milestone.replanned.v1", topic=Topic.MILESTONES)
class MilestoneReplanned(ProjectEvent):
    """The forecast date of a milestone moved (the baseline stays for comparison)."""

    kind: MilestoneKind
    baseline_date: dt.date | None = None
    previous_forecast_date: dt.date | None = None
    forecast_date: dt.date
    reason: str | None = None
    replanned_by: str


@event_type("sanpi.milestone.due_soon.v1", topic=Topic.MILESTONES)
class MilestoneDueSoon(ProjectEvent):
    kind: MilestoneKind
    due_date: dt.date
    days_to_due: int = Field(ge=0)
    as_of: dt.date


@event_type("sanpi.milestone.overdue.v1", topic=Topic.MILESTONES)
class MilestoneOverdue(ProjectEvent):
    kind: MilestoneKind
    due_date: dt.date
    days_overdue: int = Field(ge=1)
    as_of: dt.date


@event_type("sanpi.progress.reported.v1", topic=Topic.MILESTONES)
class ProgressReported(ProjectEvent):
    """A 旬 or monthly progress report (填报). Amounts are cumulative or year-to-date 万元."""

    report_id: str
    period_kind: ReportPeriodKind
    period_key: str = Field(description="2023-03-X2 (March 中旬) or 2023-03")
    completed_investment_cum: int = Field(ge=0, description="完成投资 since start, 万元")
    completed_investment_ytd: int = Field(ge=0, description="完成投资 this year, 万元")
    funds_arrived_cum: int | None = Field(default=None, ge=0, description="到位资金, 万元")
    physical_progress_pct: float | None = Field(
        default=None, ge=0, le=100, description="形象进度 %"
    )
    late: bool = False
    correction: bool = False
    reported_by: str


# --- 交办事项 (assigned issues): raised, answered by the responsible unit, closed (销号) ----------


@event_type("sanpi.assigned_issue.raised.v1", topic=Topic.MILESTONES)
class AssignedIssueRaised(ProjectEvent):
    """A problem of a project was assigned to a responsible unit (交办), with its 13710 deadlines."""

    issue_id: str
    category: IssueCategory
    description: str = Field(description="the problem, in the raiser's words")
    responsible_unit: str = Field(description="责任单位")
    term: IssueTerm = Field(description="ROUTINE: 7 working days; MAJOR: 1 month")
    raised_by: str = Field(description="who raised it (a person or a meeting)")
    raised_on: dt.date
    feedback_due_on: dt.date = Field(description="first feedback due (3 working days)")
    due_on: dt.date = Field(description="to be solved by this day (R12 yellow after it)")
    red_on: dt.date = Field(description="twice the allowed time: R12 red after this day")
    recorded_by: str


@event_type("sanpi.assigned_issue.feedback_added.v1", topic=Topic.MILESTONES)
class AssignedIssueFeedbackAdded(ProjectEvent):
    """The responsible unit (or anyone following the issue) reported on it (反馈)."""

    issue_id: str
    feedback_id: str
    text: str
    by: str
    at: dt.datetime
    first: bool = Field(description="the issue's first feedback (the 3-working-day clock stops)")


@event_type("sanpi.assigned_issue.closed.v1", topic=Topic.MILESTONES)
class AssignedIssueClosed(ProjectEvent):
    """The issue was solved and closed out (销号), with evidence; R12 falls silent on it."""

    issue_id: str
    closed_on: dt.date
    closed_by: str
    evidence: list[str] = Field(description="URIs of the proof (a permit, a photo, a letter)")
    note: str | None = None
    days_overdue: int = Field(
        ge=0, description="days past due_on when closed (0: on time), for the monthly bulletin"
    )
