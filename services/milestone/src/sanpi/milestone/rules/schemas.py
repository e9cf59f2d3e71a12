"""Response models of alerts, traffic lights and evaluation passes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import AlertRule, Severity, Stage
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
    title_en: str = Field(description="the title in English (empty: not yet evaluated since)")
    message_en: str = Field(description="the message in English")
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
    project_id: str | None = Field(description="none for a park's or the district's (R14, R15)")
    project_name: str | None
    park: str | None
    title: str
    message: str
    title_en: str = Field(description="the title in English (empty: not yet evaluated since)")
    message_en: str = Field(description="the message in English")
    metric_value: float | None
    threshold: float | None


class ProjectionPublic(BaseModel):
    target: str = Field(
        description="STARTED (开工), IN_PRODUCTION (投产) or ANNUAL_INVESTMENT (the year's plan)"
    )
    planned: dt.date = Field(description="the plan in force (31 Dec for the year's investment)")
    projected: dt.date | None = Field(description="where the pace so far leads; none: no basis")
    slip_days: int | None = Field(description="projected minus planned; positive is late")
    basis: str = Field(description="how it was projected, for people (Chinese)")


class ForecastPublic(BaseModel):
    project_id: str
    as_of: dt.date
    stage: Stage | None
    items: list[ProjectionPublic]


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
    silent: dict[AlertRule, int] = Field(
        default_factory=dict,
        description="per rule, the projects it could not judge because an input is missing "
        "(a contract amount, a funds figure, a signing or start date): no alert for them; for "
        "R14 and R15 the scopes (a period cohort with too few signings, no target of the year "
        "for the district, a target of 0)",
    )


class RulePublic(BaseModel):
    """One rule of the rule book, with the thresholds in force (settings)."""

    code: AlertRule
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    severities: list[Severity] = Field(description="the colours the rule can raise")
    evaluated: bool = Field(description="whether sanpi evaluates the rule today")
    thresholds: dict[str, Any] = Field(
        description="SANPI_MILESTONE_RULES__<CODE>__<NAME> settings in force; empty when the "
        "rule has none"
    )


class RuleCatalogue(BaseModel):
    items: list[RulePublic]
