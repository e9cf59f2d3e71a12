"""Response models of alerts, traffic lights and evaluation passes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import AlertRule, Severity
from sanpi.milestone.rules.models import AlertState


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alert_key: str
    rule: AlertRule
    severity: Severity
    state: AlertState
    project_id: str | None
    project_name: str | None
    park: str | None
    title: str
    message: str
    metric_value: float | None
    threshold: float | None
    as_of: dt.date
    evaluation_id: str
    first_raised_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None


class ParkLightPublic(BaseModel):
    park: str
    projects: int = Field(description="active (not cancelled) projects")
    counts: dict[Severity, int] = Field(description="projects by their worst firing alert")
    overall: Severity


class TrafficLights(BaseModel):
    items: list[ParkLightPublic]
    next_cursor: str | None = None


class PreviewAlertPublic(BaseModel):
    """An alert a preview finds firing as of its day."""

    alert_key: str
    rule: AlertRule
    severity: Severity
    project_id: str
    project_name: str | None
    park: str | None
    title: str
    message: str
    metric_value: float | None
    threshold: float | None


class EvaluationPublic(BaseModel):
    evaluation_id: str
    as_of: dt.date
    pinned: bool = Field(description="later scheduled and event-driven passes use as_of too")
    preview: bool = Field(
        description="a day other than the evaluation day, not pinned: nothing was written and "
        "nobody was notified; raised/updated/resolved say what an evaluation would change"
    )
    projects: int
    raised: list[str]
    updated: list[str]
    resolved: list[str]
    alerts: list[PreviewAlertPublic] = Field(
        default_factory=list, description="a preview's firing alerts as of the day (else empty)"
    )
