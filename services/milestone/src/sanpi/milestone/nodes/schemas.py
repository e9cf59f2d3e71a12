"""Request and response models of the milestone API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sanpi.events import MilestoneKind, Stage
from sanpi.kit import CampaignDate
from sanpi.kit.messages import MessageError
from sanpi.milestone.lifecycle.state_machine import Evidence
from sanpi.milestone.nodes import messages as refusals
from sanpi.milestone.nodes.models import Milestone, MilestoneStatus

Uri = Annotated[str, Field(min_length=1, max_length=2000)]


class EvidenceIn(BaseModel):
    """An attachment reference with the day it was taken (photo EXIF date, document date)."""

    model_config = ConfigDict(extra="forbid")

    uri: Uri
    taken_at: CampaignDate | None = Field(default=None, description="the day the photo was taken")


class EvidencePublic(BaseModel):
    uri: str
    taken_at: dt.date | None = None
    dated_on: dt.date | None = Field(
        default=None, description="taken_at, else a date written in the URI; null = undated"
    )
    evidence_id: str | None = Field(
        default=None, description="an uploaded photo's id (GET /v1/evidence/{id}); null otherwise"
    )
    captured_on: dt.date | None = Field(
        default=None, description="an uploaded photo's EXIF capture day (Asia/Shanghai)"
    )


def evidence_public(items: list[dict[str, Any]]) -> list[EvidencePublic]:
    out = []
    for item in items:
        ev = to_evidence(item)
        captured = item.get("captured_on")
        out.append(
            EvidencePublic(
                uri=ev.uri,
                taken_at=ev.taken_at,
                dated_on=ev.dated_on,
                evidence_id=item.get("evidence_id"),
                captured_on=dt.date.fromisoformat(captured) if captured else None,
            )
        )
    return out


def to_evidence(item: dict[str, Any]) -> Evidence:
    taken = item.get("taken_at")
    return Evidence(item["uri"], dt.date.fromisoformat(taken) if taken else None)


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MilestoneKind
    date: CampaignDate = Field(description="the day it happened (Asia/Shanghai calendar)")
    label: str = Field(
        default="",
        max_length=100,
        validate_default=True,
        description="name of a CUSTOM milestone (required for CUSTOM)",
    )
    evidence: list[Uri | EvidenceIn] = Field(
        default_factory=list,
        max_length=50,
        description="attachment references: a URI string, or {uri, taken_at}. STARTED and "
        "IN_PRODUCTION need at least one DATED one: taken_at given, a date in the URI "
        "(2023-03-01, 2023_03_01 or 20230301), or a photo uploaded to this project "
        "(/v1/evidence/{id}) with an EXIF capture date",
    )

    @field_validator("label")
    @classmethod
    def _custom_needs_label(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind") is MilestoneKind.CUSTOM and not value.strip():
            raise MessageError(refusals.LABEL_REQUIRED())
        return value.strip()

    def evidence_items(self) -> list[Evidence]:
        return [
            Evidence(e) if isinstance(e, str) else Evidence(e.uri, e.taken_at)
            for e in self.evidence
        ]


class MilestoneBatchItem(MilestoneCreate):
    """One milestone row of a batch: the single milestone's body plus its project."""

    project_id: str = Field(min_length=1, max_length=36)


class ForecastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    forecast_date: CampaignDate
    label: str = Field(default="", max_length=100)
    reason: str | None = Field(default=None, max_length=2000)


class BaselineDateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MilestoneKind
    label: str = Field(default="", max_length=100, description="names a CUSTOM milestone")
    date: CampaignDate = Field(description="the milestone's new planned date")


class BaselineCreate(BaseModel):
    """An approved change of the plan, named so that it can be compared later."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="e.g. 2023年中调整")
    reason: str = Field(min_length=1, max_length=2000, description="why the plan changed")
    dates: list[BaselineDateIn] = Field(
        min_length=1, max_length=50, description="the milestones whose planned date changes"
    )

    @field_validator("name", "reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise MessageError(refusals.NOT_BLANK())
        return value.strip()


class BaselinePublic(BaseModel):
    name: str
    reason: str | None = Field(description="none for the original plan")
    approved_by: str | None
    approved_at: dt.datetime | None = Field(description="none for the original plan")
    effective_on: dt.date | None = Field(
        default=None,
        description="the campaign day the plan changed (the evaluation day when it was approved); "
        "a preview of an earlier day judges the plan before it. None for the original plan",
    )
    dates: dict[str, dt.date] = Field(
        description="planned date by milestone (KIND, or CUSTOM:label) right after it"
    )


class BaselineRow(BaseModel):
    """One milestone across the baselines: how far it slipped from the original plan."""

    milestone: str = Field(description="KIND, or CUSTOM:label")
    original: dt.date | None = Field(description="the first approved date (原计划)")
    planned: dict[str, dt.date | None] = Field(description="its date in each named baseline")
    current: dt.date | None = Field(description="the plan the rules measure against today")
    actual: dt.date | None
    slip_days: int | None = Field(
        description="(actual, else current) minus original, in calendar days; positive is later"
    )


class BaselineComparison(BaseModel):
    baselines: list[BaselinePublic] = Field(description="原计划 first, then oldest to newest")
    milestones: list[BaselineRow]


class MilestonePlanItem(BaseModel):
    id: str
    project_id: str
    kind: MilestoneKind
    label: str
    baseline_date: dt.date | None
    forecast_date: dt.date | None
    actual_date: dt.date | None
    status: MilestoneStatus
    evidence: list[EvidencePublic]
    recorded_by: str | None
    recorded_at: dt.datetime | None


class MilestoneWarning(BaseModel):
    """Accepted, but worth a look: e.g. a photo taken on another day than the milestone."""

    code: str = Field(description="PHOTO_DATE_MISMATCH or PHOTO_UNDATED")
    field: str = Field(description="the evidence item, e.g. evidence.0")
    message: str = Field(description="for people: Chinese, or English with Accept-Language: en")


class MilestonePublic(BaseModel):
    id: str
    project_id: str
    kind: MilestoneKind
    label: str
    date: dt.date
    evidence: list[str] = Field(description="the URIs, as in milestone.achieved")
    evidence_detail: list[EvidencePublic]
    recorded_by: str
    recorded_at: dt.datetime
    stage: Stage = Field(description="the project's stage after this milestone")
    warnings: list[MilestoneWarning] = Field(
        default_factory=list,
        description="photos that do not show the milestone's date (counted by rule R16)",
    )


def milestone_public(
    row: Milestone, *, stage: Stage, warnings: list[MilestoneWarning]
) -> MilestonePublic:
    """A recorded milestone as the API answers it."""
    assert row.actual_date is not None
    assert row.recorded_at is not None
    detail = evidence_public(row.evidence)
    return MilestonePublic(
        id=row.id,
        project_id=row.project_id,
        kind=row.kind,
        label=row.label,
        date=row.actual_date,
        evidence=[e.uri for e in detail],
        evidence_detail=detail,
        recorded_by=row.recorded_by or "",
        recorded_at=row.recorded_at,
        stage=stage,
        warnings=warnings,
    )
