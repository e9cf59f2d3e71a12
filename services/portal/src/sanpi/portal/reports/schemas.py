"""The forms of 填报, checked on the server before the milestone service checks them again."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from sanpi.events import MilestoneKind
from sanpi.events.xun import parse_period
from sanpi.kit import CampaignDate
from sanpi.portal.i18n import _

# The registry's ceiling: 1万亿 in 万元.
MAX_WAN = 100_000_000


def _amount(value: Any) -> Any:
    """People type 1,200 or 1 200 or １２００: the digits are what counts."""
    if isinstance(value, str):
        cleaned = re.sub(r"[,，\s]", "", value).translate(
            str.maketrans("０１２３４５６７８９．", "0123456789.")
        )
        if cleaned == "":
            return None
        if not re.fullmatch(r"\d+", cleaned):
            raise ValueError(_("Enter a whole number of 10k yuan, e.g. 1200."))
        return int(cleaned)
    return value


Wan = Annotated[int, BeforeValidator(_amount), Field(ge=0, le=MAX_WAN)]


def _period(value: str) -> str:
    try:
        return parse_period(value).key
    except ValueError as exc:
        raise ValueError(_("Choose a 10-day period or a month.")) from exc


class MilestoneForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    project: str = Field(min_length=1, max_length=64)
    kind: MilestoneKind
    date: CampaignDate
    label: str = Field(default="", max_length=100, validate_default=True)

    @field_validator("label")
    @classmethod
    def _custom_needs_a_name(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind") is MilestoneKind.CUSTOM and not value:
            raise ValueError(_("Name the milestone."))
        return value


class ReportFields(BaseModel):
    """One 旬报/月报's figures (a row of the batch, or the single form)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    completed_investment_cum: Wan
    completed_investment_ytd: Wan
    funds_arrived_cum: Wan | None = None
    physical_progress_pct: float | None = Field(default=None, ge=0, le=100)
    narrative: str = Field(default="", max_length=4000)

    @field_validator("completed_investment_ytd")
    @classmethod
    def _year_within_total(cls, value: int, info: ValidationInfo) -> int:
        cumulative = info.data.get("completed_investment_cum")
        if cumulative is not None and value > cumulative:
            raise ValueError(_("This year's figure cannot exceed the cumulative one."))
        return value

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "completed_investment_cum": self.completed_investment_cum,
            "completed_investment_ytd": self.completed_investment_ytd,
        }
        if self.funds_arrived_cum is not None:
            body["funds_arrived_cum"] = self.funds_arrived_cum
        if self.physical_progress_pct is not None:
            body["physical_progress_pct"] = self.physical_progress_pct
        if self.narrative:
            body["narrative"] = self.narrative
        return body


class ProgressForm(ReportFields):
    project: str = Field(min_length=1, max_length=64)
    period_key: Annotated[str, BeforeValidator(_period)]
    problem: str | None = Field(default=None, max_length=1000)
    correction: bool = False

    def body(self) -> dict[str, Any]:
        body = {**super().body(), "project_id": self.project, "period_key": self.period_key}
        if self.problem:
            body["problems"] = [{"description": self.problem}]
        if self.correction:
            body["correction"] = True
        return body


class BatchHead(BaseModel):
    """Which 旬 the batch is for."""

    period_key: Annotated[str, BeforeValidator(_period)]

    @field_validator("period_key")
    @classmethod
    def _a_xun(cls, value: str) -> str:
        if parse_period(value).xun == 0:
            raise ValueError(_("The batch is for a 10-day period."))
        return value
