"""Events of the registry service, on sanpi.projects: the ledger, periods, listings, targets."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events.catalog import EventData, event_type
from sanpi.events.models.base import ProjectEvent
from sanpi.events.topics import Topic
from sanpi.events.vocabulary import (
    BatchType,
    CancelReason,
    Category,
    ChainTag,
    EnterpriseOrigin,
    FundingOrigin,
    PeriodStatus,
    Stage,
    TargetKind,
)


class EnterpriseInfo(BaseModel):
    """投资主体 / 项目单位."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    uscc: str | None = Field(default=None, description="统一社会信用代码, 18 characters")
    origin: EnterpriseOrigin | None = None
    origin_region: str | None = Field(default=None, description="e.g. 上海, 北京, 广东")


class ProjectMasterData(ProjectEvent):
    """The master data of a project as the registry holds it (docs/domain.md#projects-and-their-facts). Amounts are
    integer 万元. Every field after `total_investment` is optional so that additions stay
    compatible within v1."""

    version: int = Field(
        ge=1,
        description="the registry's master-data version of the project: 1 at registration, +1 "
        "with each update and at cancellation; a reader applies a snapshot only when this is "
        "above the version it holds",
    )
    name: str
    park: str
    total_investment: int = Field(description="总投资, 万元")
    contract_amount: int | None = Field(default=None, description="签约额, 万元")
    annual_plan_investment: int | None = Field(default=None, description="年度计划投资, 万元")
    enterprise: EnterpriseInfo | None = None
    category: Category | None = None
    chain_tag: ChainTag | None = None
    is_manufacturing: bool | None = None
    funding_origin: FundingOrigin | None = None
    construction_content: str | None = Field(default=None, description="建设规模/内容")
    expected_annual_output: int | None = Field(default=None, description="预计年产值, 万元")
    expected_jobs: int | None = None
    responsible_unit: str | None = Field(default=None, description="责任单位")
    responsible_person: str | None = Field(default=None, description="责任人")
    sponsor_leader: str | None = Field(default=None, description="分包领导")
    national_project_code: str | None = Field(default=None, description="GB/T 40058 project code")
    signed_date: dt.date | None = None
    planned_fulfill_date: dt.date | None = None
    planned_start_date: dt.date | None = None
    planned_completion_date: dt.date | None = None
    planned_production_date: dt.date | None = None
    planned_effective_date: dt.date | None = None


@event_type("sanpi.project.registered.v1", topic=Topic.PROJECTS)
class ProjectRegistered(ProjectMasterData):
    """A project entered the ledger (台账) with its master data and initial stage."""

    stage: Stage = Field(description="initial stage: SIGNED or UNDER_CONSTRUCTION")
    started_date: dt.date | None = Field(
        default=None,
        description="开工日期 of a project registered UNDER_CONSTRUCTION: the day the registry "
        "counts it started from, its declared start day, else its day of registration "
        "(Asia/Shanghai); absent for a signed one. An UNDER_CONSTRUCTION registration without "
        "it was written before v1 carried it: a reader may fall back on planned_start_date",
    )


@event_type("sanpi.project.updated.v1", topic=Topic.PROJECTS)
class ProjectUpdated(ProjectMasterData):
    """Master data changed: the full current snapshot, plus the names of the fields that changed."""

    changed: list[str] = Field(default_factory=list)
    updated_by: str | None = None


@event_type("sanpi.project.listed.v1", topic=Topic.PROJECTS)
class ProjectListed(ProjectEvent):
    """The project appears on period N's 签约/开工/投产 list (many listings over its life)."""

    period: int = Field(ge=1, description="期 number, e.g. 7 for 第七期")
    batch: BatchType
    event_date: dt.date | None = Field(default=None, description="the period's event date")
    listed_total_investment: int = Field(description="总投资 at listing, 万元")
    listed_annual_plan: int | None = Field(
        default=None, description="年度计划投资 at listing, 万元"
    )
    source_period: int | None = Field(
        default=None, description="for PRODUCE: the START listing's period"
    )
    listed_by: str | None = None


@event_type("sanpi.project.cancelled.v1", topic=Topic.PROJECTS)
class ProjectCancelled(ProjectEvent):
    """The registry cancelled the project (终止/清退); the milestone service makes it terminal."""

    version: int = Field(
        ge=1,
        description="the project's master-data version after the cancellation (one above its "
        "last snapshot's)",
    )
    reason_code: CancelReason
    reason: str
    effective_date: dt.date
    cancelled_by: str


class PeriodEvent(EventData):
    """An event about a period (期); keyed by `period-<n>`."""

    period: int = Field(ge=1)
    event_date: dt.date
    quarter: str = Field(description="e.g. 2023Q1")
    status: PeriodStatus

    def partition_key(self) -> str:
        return f"period-{self.period}"

    def subject(self) -> str | None:
        return self.partition_key()


@event_type("sanpi.period.opened.v1", topic=Topic.PROJECTS)
class PeriodOpened(PeriodEvent):
    """A period was created or opened for declaration."""


@event_type("sanpi.period.held.v1", topic=Topic.PROJECTS)
class PeriodHeld(PeriodEvent):
    """The period's event (活动) took place on `event_date`."""


@event_type("sanpi.period.closed.v1", topic=Topic.PROJECTS)
class PeriodClosed(PeriodEvent):
    """The period is closed: its lists no longer change."""


@event_type("sanpi.target.set.v1", topic=Topic.PROJECTS)
class TargetSet(EventData):
    """An annual target for a scope (the district, or one park); keyed by `target-<year>-<scope>`.
    The milestone service keeps a copy and judges the pace against it (rule R15); a value of 0
    leaves the scope without that target."""

    year: int = Field(ge=2000, le=2100)
    scope: str = Field(description="district name or park")
    kind: TargetKind
    value: int = Field(ge=0, description="万元 for amounts, 个 for counts")
    set_by: str | None = None

    def partition_key(self) -> str:
        return f"target-{self.year}-{self.scope}"

    def subject(self) -> str | None:
        return self.partition_key()
