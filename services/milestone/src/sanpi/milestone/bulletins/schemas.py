"""The bulletin as data (GET /v1/bulletins/{period}?format=json); the XLSX and the PDF show it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from sanpi.events import AlertRule, ReportPeriodKind

Mark = Literal["red", "yellow", "green"]
MARK_ZH: dict[str, str] = {"red": "红", "yellow": "黄", "green": "绿"}


class TargetLine(BaseModel):
    kind: str
    label: str = Field(description="签约额, 新开工投资额 …")
    unit: str = Field(description="亿元, or 个 for a count")
    target: float
    actual: float
    attainment_pct: float | None
    time_progress_pct: float = Field(description="序时进度")
    gap_pts: float | None = Field(description="above (+) / below (−) 序时进度, percentage points")


class BatchLine(BaseModel):
    label: str = Field(description="签约一批, 开工一批, 投产一批")
    count: int
    amount_yi: float


class RateLine(BaseModel):
    label: str
    pct: float | None
    numerator: int
    denominator: int


class Investment(BaseModel):
    """The district's investment this year against its annual plans (progress reports)."""

    completed_ytd: int = Field(description="万元, the latest report of the year by as_of")
    expected_ytd: int = Field(description="万元, the plans' months ended by as_of (计划应完成)")
    annual_plan: int = Field(description="万元")
    completion_pct: float | None
    expected_pct: float | None = Field(
        description="计划应完成: the share of the annual plans their monthly split asks for "
        "the months ended by as_of (months ended / 12 for a plan without one); not 序时进度"
    )
    gap_pts: float | None


class District(BaseModel):
    scope: str
    time_progress_pct: float = Field(description="序时进度 of the year on as_of")
    targets: list[TargetLine]
    batches: list[BatchLine] = Field(description="this year's periods, by batch")
    rates: list[RateLine] = Field(description="签约项目开工率, 开工项目投产率, 投产项目达效率")
    investment: Investment


class ParkRank(BaseModel):
    rank: int
    park: str
    projects: int = Field(description="active projects on as_of")
    red: int = Field(description="projects whose worst alert is red")
    yellow: int = Field(description="… yellow or orange")
    investment: Investment
    mark: Mark = Field(
        description="the park's light: 红 when at least light_share of its projects are red, 黄 "
        "when any is red or light_share is yellow or worse (orange counts as 黄), else 绿"
    )
    mark_zh: str


class RuleHit(BaseModel):
    rule: AlertRule
    title: str
    message: str


class RedProject(BaseModel):
    project_id: str
    name: str
    park: str
    responsible_unit: str | None
    responsible_person: str | None
    rules: list[RuleHit]


class StageNews(BaseModel):
    project_id: str
    name: str
    park: str
    day: dt.date
    total_investment: int = Field(description="万元")


class Bulletin(BaseModel):
    period: str = Field(description="2023-03-X2 (a 旬) or 2023-03 (a month)")
    kind: ReportPeriodKind
    title: str
    period_label: str = Field(description="2023年3月中旬")
    start: dt.date
    end: dt.date
    as_of: dt.date = Field(description="the period's end, or today while it runs")
    provisional: bool = Field(description="the period has not ended: figures so far")
    district: District
    parks: list[ParkRank] = Field(description="ranked by investment completion, best first")
    red_projects: list[RedProject]
    started: list[StageNews] = Field(description="开工 in the period")
    produced: list[StageNews] = Field(description="投产 in the period")
    light_share: float = Field(
        default=0.2,
        description="the park marks' share: 红 when at least this share of a park's projects "
        "are red; 黄 when any is red, or this share is yellow or worse; 绿 otherwise",
    )
    demo: bool = Field(
        default=False, description="composed from the demo data set (演示数据), not real reports"
    )
