"""Request and response models of investment plans and progress reports."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from sanpi.events import ReportPeriodKind
from sanpi.events.xun import ReportPeriod, parse_period
from sanpi.kit import CampaignDate
from sanpi.kit.messages import MessageError, quoted
from sanpi.milestone.nodes.schemas import MilestoneBatchItem, MilestonePublic
from sanpi.milestone.progress.messages import (
    BATCH_EMPTY,
    BATCH_TOO_LARGE,
    KIND_MISMATCH,
    NEGATIVE_AMOUNTS,
    PERIOD_INVALID,
)

# The registry's ceiling (1万亿 in 万元): anything above is a typing error, not an investment.
MAX_AMOUNT_WAN = 100_000_000


class ProblemIn(BaseModel):
    """存在问题: one problem the project faces, and who should solve it."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=1000)
    category: Literal["LAND", "APPROVAL", "FUNDING", "POWER", "DEMOLITION", "OTHER"] = "OTHER"
    assigned_unit: str | None = Field(default=None, max_length=128)


class ProgressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    period_key: str = Field(description="2023-03-X2 (March 中旬) or 2023-03 (the month)")
    period_kind: ReportPeriodKind | None = Field(
        default=None, description="optional; must match period_key"
    )
    completed_investment_cum: int = Field(ge=0, le=MAX_AMOUNT_WAN, description="累计完成投资, 万元")
    completed_investment_ytd: int = Field(ge=0, le=MAX_AMOUNT_WAN, description="本年完成投资, 万元")
    funds_arrived_cum: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_WAN)
    physical_progress_pct: float | None = Field(
        default=None, ge=0, le=100, description="形象进度 %"
    )
    narrative: str = Field(default="", max_length=4000)
    problems: list[ProblemIn] = Field(default_factory=list, max_length=50)
    correction: bool = Field(
        default=False,
        description="a correction may lower the cumulative figure and replaces an earlier "
        "report of the same period",
    )
    submitted_on: CampaignDate | None = Field(
        default=None, description="admin only: the day it was really submitted (backfills)"
    )

    @field_validator("period_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        try:
            return parse_period(value).key
        except ValueError as exc:
            raise MessageError(PERIOD_INVALID(input=quoted(value), reason=str(exc))) from exc

    @field_validator("period_kind")
    @classmethod
    def _kind_matches(
        cls, value: ReportPeriodKind | None, info: ValidationInfo
    ) -> ReportPeriodKind | None:
        key = info.data.get("period_key")
        if value is not None and key is not None and parse_period(key).kind is not value:
            kind = parse_period(key).kind
            kind_zh = "旬" if kind is ReportPeriodKind.XUN else "月"
            raise MessageError(KIND_MISMATCH(key=key, kind=kind, kind_zh=kind_zh, value=value))
        return value

    @cached_property
    def period(self) -> ReportPeriod:
        # Once per report: a batch reads it four times a row, and parsing was ~8 % of its path.
        return parse_period(self.period_key)


class ProgressPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    period_kind: ReportPeriodKind
    period_key: str
    period_end: dt.date
    completed_investment_cum: int
    completed_investment_ytd: int
    funds_arrived_cum: int | None
    physical_progress_pct: float | None
    narrative: str
    problems: list[ProblemIn]
    deadline: dt.date
    submitted_on: dt.date
    late: bool
    correction: bool
    reported_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PlanPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    annual_plan: int = Field(ge=0, le=MAX_AMOUNT_WAN, description="年度计划投资, 万元")
    monthly: list[int] | None = Field(
        default=None, min_length=12, max_length=12, description="12 monthly amounts, 万元"
    )
    xun: list[int] | None = Field(
        default=None, min_length=36, max_length=36, description="36 旬 amounts (量化到旬), 万元"
    )

    @field_validator("monthly", "xun")
    @classmethod
    def _not_negative(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(v < 0 for v in value):
            raise MessageError(NEGATIVE_AMOUNTS())
        return value


class PlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    project_id: str
    year: int
    annual_plan: int
    monthly: list[int] | None
    xun: list[int] | None
    source: str
    set_by: str
    updated_at: dt.datetime


# A batch carries at most this many rows: a 旬's reports of a whole park (the largest of Zhengzhou
# High-tech Zone's parks tracks ~200 projects) with room to spare, in one transaction that holds
# SQLite's write lock for well under a second.
MAX_BATCH_ROWS = 500


class ProgressBatchItem(ProgressCreate):
    """One row of a batch: the single report's body plus its project."""

    project_id: str = Field(min_length=1, max_length=36)


def _row_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A batch row's JSON Schema for the OpenAPI document: the model's, its nested models cited
    as the components the single routes already declare (ProblemIn, EvidenceIn…)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


class ProgressBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Rows are checked one by one by the service (a bad row is refused alone, not the request),
    # so the model takes them as plain JSON and documents them as the rows' models.
    milestones: list[Annotated[Any, WithJsonSchema(_row_schema(MilestoneBatchItem))]] = Field(
        default_factory=list,
        max_length=MAX_BATCH_ROWS,
        description="reached milestones: each the body of POST /v1/projects/{id}/milestones plus "
        "its project_id, recorded after the reports, in their order; at most 500 rows in all",
    )
    reports: list[Annotated[Any, WithJsonSchema(_row_schema(ProgressBatchItem))]] = Field(
        default_factory=list,
        max_length=MAX_BATCH_ROWS,
        validate_default=True,
        description="up to 500 reports: each the body of POST /v1/projects/{id}/progress plus "
        "its project_id; each row is checked alone and refused alone",
    )
    all_or_nothing: bool = Field(
        default=False, description="refuse every row (write nothing) when one row is refused"
    )

    @field_validator("reports")
    @classmethod
    def _rows(cls, reports: list[Any], info: ValidationInfo) -> list[Any]:
        # Declared after `milestones` so that it sees them: the rows count together, and a
        # batch without any is named by `reports`, the list most batches carry.
        rows = len(reports) + len(info.data.get("milestones") or [])
        if rows == 0:
            raise MessageError(BATCH_EMPTY())
        if rows > MAX_BATCH_ROWS:
            raise MessageError(BATCH_TOO_LARGE(most=MAX_BATCH_ROWS, rows=rows))
        return reports


class RowError(BaseModel):
    field: str = Field(description="the row's field, dotted (problems.0.description); '' = the row")
    code: str = Field(description="stable code of the message, e.g. progress.cum_falls")
    message: str = Field(description="for people: Chinese, or English with Accept-Language: en")


class ProgressBatchRow(BaseModel):
    index: int = Field(description="the row's position in `reports`, from 0")
    project_id: str | None
    status: Literal["accepted", "late", "duplicate", "refused"] = Field(
        description="accepted; late = accepted after its deadline; duplicate = the same figures "
        "were already reported for that period (nothing written); refused (see errors)"
    )
    report: ProgressPublic | None = Field(
        description="the stored report (the existing one for a duplicate); null when refused"
    )
    errors: list[RowError]


class ProgressBatchResult(BaseModel):
    results: list[ProgressBatchRow] = Field(description="the reports' outcomes, in their order")
    milestones: list[MilestoneBatchRow] = Field(
        default_factory=list, description="the milestones' outcomes, in their order"
    )
    accepted: int = Field(description="rows written (accepted and late), reports and milestones")
    refused: int
    duplicate: int = Field(description="rows already stored as they are (nothing written)")


class MilestoneBatchRow(BaseModel):
    index: int = Field(description="the row's position in `milestones`, from 0")
    project_id: str | None
    status: Literal["accepted", "duplicate", "refused"] = Field(
        description="accepted; duplicate = already achieved on that date (nothing written); "
        "refused (see errors)"
    )
    milestone: MilestonePublic | None = Field(
        description="the recorded milestone (the stored one for a duplicate); null when refused"
    )
    errors: list[RowError]
