"""Response models of GET /v1/indicators."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from sanpi.events import BatchType, TargetKind
from sanpi.events.percent import half_up, pct
from sanpi.registry.indicators.formulas import (
    Attainment,
    BatchTally,
    ConversionRates,
    Pace,
    PublishedRates,
    Rate,
)


class RatePublic(BaseModel):
    numerator: int
    denominator: int
    rate: float | None = Field(description="0–1; null when the denominator is 0")
    pct: float | None = Field(description="percent, one decimal, rounded half up (四舍五入)")

    @classmethod
    def of(cls, rate: Rate) -> RatePublic:
        return cls(
            numerator=rate.numerator, denominator=rate.denominator, rate=rate.value, pct=rate.pct
        )


class RatesPublic(BaseModel):
    sign_to_start: RatePublic = Field(description="签约项目开工率")
    start_to_production: RatePublic = Field(description="开工项目投产率")
    production_to_effective: RatePublic = Field(description="投产项目达效率")

    @classmethod
    def of(cls, rates: ConversionRates) -> RatesPublic:
        return cls(
            sign_to_start=RatePublic.of(rates.sign_to_start),
            start_to_production=RatePublic.of(rates.start_to_production),
            production_to_effective=RatePublic.of(rates.production_to_effective),
        )


class PublishedRatesPublic(BaseModel):
    sign_to_fulfil: RatePublic = Field(description="签约项目履约率: signings in 履约 or later")
    fulfil_to_start: RatePublic = Field(description="履约项目开工率: of those, the started")
    planned_start: RatePublic = Field(
        description="计划开工率: of the starts planned from 1 January of `year` to `as_of` "
        "(应开工), those started by `as_of` (已开工)"
    )
    funds_arrival: RatePublic = Field(
        description="资金到位率: Σ 到位资金 (each signing's latest progress report by `as_of`) / "
        "Σ 签约额 (else 总投资) of the signings, 万元"
    )

    @classmethod
    def of(cls, rates: PublishedRates) -> PublishedRatesPublic:
        return cls(
            sign_to_fulfil=RatePublic.of(rates.sign_to_fulfil),
            fulfil_to_start=RatePublic.of(rates.fulfil_to_start),
            planned_start=RatePublic.of(rates.planned_start),
            funds_arrival=RatePublic.of(rates.funds_arrival),
        )


class BatchPublic(BaseModel):
    count: int
    amount: int = Field(description="万元")
    amount_yi: float = Field(description="亿元")

    @classmethod
    def of(cls, tally: BatchTally) -> BatchPublic:
        return cls(count=tally.count, amount=tally.amount, amount_yi=tally.amount_yi)


def batches_public(tallies: dict[BatchType, BatchTally]) -> dict[BatchType, BatchPublic]:
    return {batch: BatchPublic.of(tally) for batch, tally in tallies.items()}


class PeriodIndicators(BaseModel):
    period: int
    event_date: dt.date
    quarter: str
    batches: dict[BatchType, BatchPublic] = Field(
        description="签约/开工/投产一批: count and amount"
    )
    total: BatchPublic
    cohort: RatesPublic = Field(description="this period's lists followed to as_of")


class AttainmentPublic(BaseModel):
    kind: TargetKind
    target: int = Field(description="万元, or 个 for MFG_SIGN_COUNT")
    actual: int
    attainment_pct: float | None
    time_progress_pct: float = Field(description="序时进度")
    gap_pts: float | None = Field(description="percentage points above (+) / below (−) 序时进度")
    pace: Pace | None

    @classmethod
    def of(cls, a: Attainment) -> AttainmentPublic:
        ratio = a.ratio
        return cls(
            kind=a.kind,
            target=a.target,
            actual=a.actual,
            attainment_pct=pct(ratio),
            time_progress_pct=half_up(a.time_progress * 100),
            gap_pts=a.gap_pts,
            pace=a.pace,
        )


class Indicators(BaseModel):
    scope: str = Field(description="the district, or the park asked for")
    park: str | None
    year: int
    as_of: dt.date
    time_progress_pct: float = Field(
        description="序时进度 of `year` on `as_of` (calendar days), Asia/Shanghai"
    )
    periods: list[PeriodIndicators] = Field(description="the periods held in `year`")
    year_batches: dict[BatchType, BatchPublic]
    cumulative: RatesPublic = Field(description="the whole portfolio in scope, as of `as_of`")
    published: PublishedRatesPublic = Field(
        description="签约项目履约率, 履约项目开工率, 计划开工率, 资金到位率: the whole portfolio in scope"
    )
    cohort: RatesPublic = Field(description="the lists of `year`'s periods, as of `as_of`")
    targets: list[AttainmentPublic]
