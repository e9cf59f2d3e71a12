"""The event models: the `data` of every sanpi event type, versioned in the type name (.v1)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from sanpi.events.registry import EventData, event_type
from sanpi.events.topics import Topic
from sanpi.events.vocabulary import MilestoneKind, Stage


class ProjectEvent(EventData):
    """An event about one project: keyed and subjected by the project id (per-project order)."""

    project_id: str

    def partition_key(self) -> str:
        return self.project_id


# --- registry → sanpi.projects -------------------------------------------------------------------


@event_type("sanpi.project.registered.v1", topic=Topic.PROJECTS)
class ProjectRegistered(ProjectEvent):
    """A project entered the registry's ledger (台账), with its master data and initial stage."""

    version: int = Field(ge=1)
    name: str
    park: str
    total_investment: int = Field(description="总投资, integer 万元")
    stage: Stage = Field(description="initial stage: SIGNED or UNDER_CONSTRUCTION")
    planned_start_date: dt.date | None = None
    planned_production_date: dt.date | None = None


# --- milestone → sanpi.milestones ----------------------------------------------------------------


@event_type("sanpi.milestone.achieved.v1", topic=Topic.MILESTONES)
class MilestoneAchieved(ProjectEvent):
    """A milestone was reached on a date, with its evidence (URIs of site photos, permits…)."""

    milestone_id: str
    kind: MilestoneKind
    date: dt.date
    evidence: list[str] = Field(default_factory=list)
    recorded_by: str


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
