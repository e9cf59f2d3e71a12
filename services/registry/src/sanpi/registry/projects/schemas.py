"""Request and response models of the project API."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from sanpi.events import CancelReason, Category, ChainTag, EnterpriseOrigin, FundingOrigin, Stage
from sanpi.kit import CampaignDate

# 1万亿 (10^8 万元): larger than any single project on record (the biggest province listings are
# a few hundred 亿), so anything above is a typing error, not an investment.
MAX_AMOUNT_WAN = 100_000_000
# The biggest plants in Henan employ a few hundred thousand (Foxconn Zhengzhou ~300k).
MAX_JOBS = 1_000_000

Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT_WAN, description="integer 万元")]
OptionalAmount = Annotated[int, Field(ge=0, le=MAX_AMOUNT_WAN, description="integer 万元")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Person = Annotated[str, Field(min_length=1, max_length=100)]
# 统一社会信用代码: 18 characters of 0-9 and A-Z without I, O, S, V, Z (GB 32100-2015). The check
# digit is not verified: a lenient ledger beats refusing a row over one mistyped character.
Uscc = Annotated[str, Field(pattern=r"^[0-9A-HJ-NP-RTUWXY]{18}$", description="统一社会信用代码")]
# GB/T 40058 project code, e.g. 2020-410171-39-03-012345 (24 characters with hyphens, 20
# without); the exact layout is unverified (docs/domain.md#open-questions), so only the shape is checked.
ProjectCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Z]{4}-?[0-9A-Z]{6}-?[0-9A-Z]{2}-?[0-9A-Z]{2}-?[0-9A-Z]{6}$",
        description="全国投资项目代码 (GB/T 40058)",
    ),
]
InitialStage = Literal[Stage.SIGNED, Stage.UNDER_CONSTRUCTION]


def yi(amount_wan: int | None) -> float | None:
    """万元 → 亿元 with two decimals, for display only."""
    return None if amount_wan is None else round(amount_wan / 10_000, 2)


class EnterpriseIn(BaseModel):
    """投资主体 / 项目单位."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    uscc: Uscc | None = None
    origin: EnterpriseOrigin | None = None
    origin_region: str | None = Field(default=None, max_length=64, description="e.g. 上海")


class ProjectFields(BaseModel):
    """The master-data fields a client may set (create) or change (patch)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enterprise: EnterpriseIn | None = None
    category: Category | None = None
    chain_tag: ChainTag | None = Field(default=None, description='"4+4+N" chain')
    is_manufacturing: bool | None = Field(default=None, description="制造业项目")
    funding_origin: FundingOrigin | None = None
    contract_amount: OptionalAmount | None = Field(default=None, description="签约额, 万元")
    annual_plan_investment: OptionalAmount | None = Field(
        default=None, description="年度计划投资, 万元"
    )
    construction_content: str | None = Field(
        default=None, max_length=4000, description="建设规模及内容"
    )
    expected_annual_output: OptionalAmount | None = Field(
        default=None, description="预计年产值, 万元"
    )
    expected_jobs: int | None = Field(default=None, ge=0, le=MAX_JOBS)
    responsible_unit: Name | None = Field(default=None, description="责任单位")
    responsible_person: Person | None = Field(default=None, description="责任人")
    sponsor_leader: Person | None = Field(default=None, description="分包领导")
    national_project_code: ProjectCode | None = None
    signed_date: CampaignDate | None = Field(default=None, description="签约日期")
    planned_fulfill_date: CampaignDate | None = Field(default=None, description="计划履约日期")
    planned_start_date: CampaignDate | None = Field(default=None, description="计划开工日期")
    planned_completion_date: CampaignDate | None = Field(default=None, description="计划竣工日期")
    planned_production_date: CampaignDate | None = Field(default=None, description="计划投产日期")
    planned_effective_date: CampaignDate | None = Field(default=None, description="计划达效日期")


class ProjectCreate(ProjectFields):
    name: Name = Field(description="项目名称")
    park: str = Field(min_length=1, max_length=64, description="所属园区, e.g. 梧桐")
    total_investment: Amount = Field(description="总投资, integer 万元")
    initial_stage: InitialStage = Stage.SIGNED
    started_date: CampaignDate | None = Field(
        default=None,
        description="开工日期, only for a project registered already UNDER_CONSTRUCTION "
        "(default: the day of registration)",
    )


class ProjectUpdate(ProjectFields):
    """Every field optional: only those sent change; an explicit null clears an optional one."""

    name: Name | None = None
    park: str | None = Field(default=None, min_length=1, max_length=64)
    total_investment: Amount | None = None
    version: int | None = Field(
        default=None, ge=1, description="the version you read; 409 if it is no longer current"
    )


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason_code: CancelReason
    reason: str = Field(min_length=1, max_length=500, description="终止/清退 reason in words")
    effective_date: CampaignDate | None = Field(
        default=None, description="default: today (Shanghai)"
    )
    version: int | None = Field(default=None, ge=1)


class ProjectSort(StrEnum):
    """The orders a list can be read in; `-` means descending. Each one pages with a cursor."""

    CREATED = "created_at"
    CREATED_DESC = "-created_at"
    NAME = "name"
    NAME_DESC = "-name"
    TOTAL = "total_investment"
    TOTAL_DESC = "-total_investment"
    PLANNED_START = "planned_start_date"
    PLANNED_START_DESC = "-planned_start_date"


class EnterprisePublic(BaseModel):
    name: str
    uscc: str | None
    origin: EnterpriseOrigin | None
    origin_region: str | None


class ProjectPublic(BaseModel):
    id: str
    name: str
    park: str
    enterprise: EnterprisePublic | None
    category: Category | None
    chain_tag: ChainTag | None
    is_manufacturing: bool
    funding_origin: FundingOrigin | None
    total_investment: int = Field(description="总投资, 万元")
    contract_amount: int | None
    annual_plan_investment: int | None
    construction_content: str | None
    expected_annual_output: int | None
    expected_jobs: int | None
    responsible_unit: str | None
    responsible_person: str | None
    sponsor_leader: str | None
    national_project_code: str | None
    signed_date: dt.date | None
    planned_fulfill_date: dt.date | None
    planned_start_date: dt.date | None
    planned_completion_date: dt.date | None
    planned_production_date: dt.date | None
    planned_effective_date: dt.date | None
    initial_stage: Stage
    stage: Stage = Field(description="as last reported by the milestone service")
    fulfilled_date: dt.date | None
    started_date: dt.date | None
    production_date: dt.date | None
    effective_date: dt.date | None
    cancelled_on: dt.date | None
    cancel_reason_code: CancelReason | None
    cancel_reason: str | None
    version: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @computed_field(description="总投资 in 亿元, for display")  # type: ignore[prop-decorator]
    @property
    def total_investment_yi(self) -> float:
        return round(self.total_investment / 10_000, 2)

    @computed_field(description="签约额 in 亿元, for display")  # type: ignore[prop-decorator]
    @property
    def contract_amount_yi(self) -> float | None:
        return yi(self.contract_amount)

    @computed_field(description="年度计划投资 in 亿元")  # type: ignore[prop-decorator]
    @property
    def annual_plan_investment_yi(self) -> float | None:
        return yi(self.annual_plan_investment)

    @classmethod
    def of(cls, project: Any) -> ProjectPublic:
        """The public view of a Project row (enterprise columns nested back into one object)."""
        values = {name: getattr(project, name) for name in cls.model_fields if name != "enterprise"}
        enterprise = None
        if project.enterprise_name is not None:
            enterprise = EnterprisePublic(
                name=project.enterprise_name,
                uscc=project.enterprise_uscc,
                origin=project.enterprise_origin,
                origin_region=project.enterprise_origin_region,
            )
        return cls(**values, enterprise=enterprise)
