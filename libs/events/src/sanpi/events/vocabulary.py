"""Shared domain vocabulary (docs/domain.md#glossary): stages, milestone kinds, classifications, severities."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Lifecycle stage of a project (docs/domain.md#lifecycle-stages). The milestone service is its only writer."""

    SIGNED = "SIGNED"  # 签约
    FULFILLING = "FULFILLING"  # 履约
    UNDER_CONSTRUCTION = "UNDER_CONSTRUCTION"  # 开工 / 在建
    IN_PRODUCTION = "IN_PRODUCTION"  # 投产
    EFFECTIVE = "EFFECTIVE"  # 达效
    SUSPENDED = "SUSPENDED"  # 停工 / 暂停
    CANCELLED = "CANCELLED"  # 终止 / 清退


class MilestoneKind(StrEnum):
    """The milestone kinds of docs/domain.md#milestone-kinds; FULFILLED, STARTED, IN_PRODUCTION, EFFECTIVE move the stage."""

    SIGNED = "SIGNED"
    FULFILLED = "FULFILLED"
    LAND_ACQUIRED = "LAND_ACQUIRED"
    PLANNING_PERMIT = "PLANNING_PERMIT"
    CONSTRUCTION_PERMIT = "CONSTRUCTION_PERMIT"
    STARTED = "STARTED"
    TOPPED_OUT = "TOPPED_OUT"
    EQUIPMENT_IN = "EQUIPMENT_IN"
    COMPLETED = "COMPLETED"
    TRIAL_PRODUCTION = "TRIAL_PRODUCTION"
    IN_PRODUCTION = "IN_PRODUCTION"
    EFFECTIVE = "EFFECTIVE"
    IN_STATISTICS = "IN_STATISTICS"
    CUSTOM = "CUSTOM"


# What officials call each milestone: the words of alert messages, the timeline and the 旬
# bulletin, which are written in Chinese (the portal translates the codes itself, both ways).
MILESTONE_KIND_ZH: dict[MilestoneKind, str] = {
    MilestoneKind.SIGNED: "签约",
    MilestoneKind.FULFILLED: "履约",
    MilestoneKind.LAND_ACQUIRED: "取得土地",
    MilestoneKind.PLANNING_PERMIT: "取得规划许可",
    MilestoneKind.CONSTRUCTION_PERMIT: "取得施工许可",
    MilestoneKind.STARTED: "开工",
    MilestoneKind.TOPPED_OUT: "主体封顶",
    MilestoneKind.EQUIPMENT_IN: "设备进场",
    MilestoneKind.COMPLETED: "竣工",
    MilestoneKind.TRIAL_PRODUCTION: "试生产",
    MilestoneKind.IN_PRODUCTION: "投产",
    MilestoneKind.EFFECTIVE: "达效",
    MilestoneKind.IN_STATISTICS: "入库纳统",
    MilestoneKind.CUSTOM: "其他节点",
}
# The same in English: the portal's switch and the English of alert messages.
MILESTONE_KIND_EN: dict[MilestoneKind, str] = {
    MilestoneKind.SIGNED: "Signed (milestone)",
    MilestoneKind.FULFILLED: "Contract fulfilled",
    MilestoneKind.LAND_ACQUIRED: "Land acquired",
    MilestoneKind.PLANNING_PERMIT: "Planning permit",
    MilestoneKind.CONSTRUCTION_PERMIT: "Construction permit",
    MilestoneKind.STARTED: "Construction started",
    MilestoneKind.TOPPED_OUT: "Topped out",
    MilestoneKind.EQUIPMENT_IN: "Equipment installed",
    MilestoneKind.COMPLETED: "Construction completed",
    MilestoneKind.TRIAL_PRODUCTION: "Trial production",
    MilestoneKind.IN_PRODUCTION: "Production started",
    MilestoneKind.EFFECTIVE: "Target output reached",
    MilestoneKind.IN_STATISTICS: "Entered in statistics",
    MilestoneKind.CUSTOM: "Other milestone",
}


class MilestoneStatus(StrEnum):
    """Where a milestone stands against its plan: the rules set DUE_SOON and OVERDUE."""

    PENDING = "PENDING"
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"
    ACHIEVED = "ACHIEVED"


# The forward path of the stages; a correction is the only way to move left on it.
STAGE_ORDER: tuple[Stage, ...] = (
    Stage.SIGNED,
    Stage.FULFILLING,
    Stage.UNDER_CONSTRUCTION,
    Stage.IN_PRODUCTION,
    Stage.EFFECTIVE,
)

# The milestones that move a project to a new stage; every other kind is recorded only.
STAGE_OF_MILESTONE: dict[MilestoneKind, Stage] = {
    MilestoneKind.FULFILLED: Stage.FULFILLING,
    MilestoneKind.STARTED: Stage.UNDER_CONSTRUCTION,
    MilestoneKind.IN_PRODUCTION: Stage.IN_PRODUCTION,
    MilestoneKind.EFFECTIVE: Stage.EFFECTIVE,
}

# What officials call each stage: the registry's import sheets and the pages say these words.
STAGE_ZH: dict[Stage, str] = {
    Stage.SIGNED: "签约",
    Stage.FULFILLING: "履约",
    Stage.UNDER_CONSTRUCTION: "在建",
    Stage.IN_PRODUCTION: "投产",
    Stage.EFFECTIVE: "达效",
    Stage.SUSPENDED: "暂停",
    Stage.CANCELLED: "终止",
}


class Category(StrEnum):
    """Project category used in the 8th/15th-period statistics (docs/domain.md#categories)."""

    ADVANCED_MANUFACTURING = "ADVANCED_MANUFACTURING"  # 先进制造业
    STRATEGIC_EMERGING = "STRATEGIC_EMERGING"  # 战略性新兴产业
    DIGITAL_NEW_INFRA = "DIGITAL_NEW_INFRA"  # 数字经济/新基建
    MAJOR_INFRA = "MAJOR_INFRA"  # 重大基础设施
    MODERN_SERVICES = "MODERN_SERVICES"  # 现代服务业
    SOCIAL_LIVELIHOOD = "SOCIAL_LIVELIHOOD"  # 社会民生
    OTHER = "OTHER"  # 其他


class ChainTag(StrEnum):
    """郑州高新区's "4+4+N" industry chains for 2023 (docs/domain.md, Categories)."""

    # 4 leading industries (主导产业)
    IOT = "IOT"  # 物联网
    ELECTRONIC_INFORMATION = "ELECTRONIC_INFORMATION"  # 电子信息
    BEIDOU = "BEIDOU"  # 北斗应用
    NEW_MATERIALS = "NEW_MATERIALS"  # 新材料
    # 4 strategic emerging industries (战略性新兴产业)
    COMPUTING = "COMPUTING"  # 数算产业
    HYDROGEN_STORAGE = "HYDROGEN_STORAGE"  # 氢能与储能
    LIFE_HEALTH = "LIFE_HEALTH"  # 生命健康
    NEXT_GEN_IT = "NEXT_GEN_IT"  # 新一代信息技术
    # N future industries (未来产业)
    QUANTUM = "QUANTUM"  # 量子信息
    BRAIN_INSPIRED = "BRAIN_INSPIRED"  # 类脑智能
    FUTURE_NETWORK = "FUTURE_NETWORK"  # 未来网络
    FRONTIER_MATERIALS = "FRONTIER_MATERIALS"  # 前沿新材料
    OTHER = "OTHER"  # 其他 (outside the list)


CHAIN_TAG_LABELS: dict[ChainTag, str] = {
    ChainTag.IOT: "物联网",
    ChainTag.ELECTRONIC_INFORMATION: "电子信息",
    ChainTag.BEIDOU: "北斗应用",
    ChainTag.NEW_MATERIALS: "新材料",
    ChainTag.COMPUTING: "数算产业",
    ChainTag.HYDROGEN_STORAGE: "氢能与储能",
    ChainTag.LIFE_HEALTH: "生命健康",
    ChainTag.NEXT_GEN_IT: "新一代信息技术",
    ChainTag.QUANTUM: "量子信息",
    ChainTag.BRAIN_INSPIRED: "类脑智能",
    ChainTag.FUTURE_NETWORK: "未来网络",
    ChainTag.FRONTIER_MATERIALS: "前沿新材料",
    ChainTag.OTHER: "其他",
}

CATEGORY_LABELS: dict[Category, str] = {
    Category.ADVANCED_MANUFACTURING: "先进制造业",
    Category.STRATEGIC_EMERGING: "战略性新兴产业",
    Category.DIGITAL_NEW_INFRA: "数字经济和新基建",
    Category.MAJOR_INFRA: "重大基础设施",
    Category.MODERN_SERVICES: "现代服务业",
    Category.SOCIAL_LIVELIHOOD: "社会民生",
    Category.OTHER: "其他",
}


class FundingOrigin(StrEnum):
    """Where the capital comes from (8th period: 96 % out-of-province, 4 % foreign)."""

    LOCAL = "LOCAL"  # 本地
    OUT_OF_PROVINCE = "OUT_OF_PROVINCE"  # 省外
    FOREIGN = "FOREIGN"  # 境外


class EnterpriseOrigin(StrEnum):
    LOCAL = "LOCAL"
    OUT_OF_PROVINCE = "OUT_OF_PROVINCE"
    FOREIGN = "FOREIGN"
    HK_MO_TW = "HK_MO_TW"  # 港澳台


class BatchType(StrEnum):
    """Which list of a period (期) a project appears on."""

    SIGN = "SIGN"  # 签约一批
    START = "START"  # 开工一批
    PRODUCE = "PRODUCE"  # 投产一批


# The lists as the bulletin and the pages name them.
BATCH_ZH: dict[BatchType, str] = {
    BatchType.SIGN: "签约一批",
    BatchType.START: "开工一批",
    BatchType.PRODUCE: "投产一批",
}


class PeriodStatus(StrEnum):
    PLANNED = "PLANNED"
    OPEN_FOR_DECLARATION = "OPEN_FOR_DECLARATION"
    HELD = "HELD"
    CLOSED = "CLOSED"


class TargetKind(StrEnum):
    """Annual portfolio targets, as 郑州高新区 set them for 2023 (docs/domain.md, Listings, periods
    and targets)."""

    SIGN_AMOUNT = "SIGN_AMOUNT"  # 新签约项目签约额, 万元
    NEW_START_INVESTMENT = "NEW_START_INVESTMENT"  # 新开工项目投资额, 万元
    MFG_SIGN_AMOUNT = "MFG_SIGN_AMOUNT"  # 制造业招商项目签约额, 万元
    MFG_SIGN_COUNT = "MFG_SIGN_COUNT"  # 制造业项目签约个数, 个


# The targets as the bulletin and the pages name them.
TARGET_ZH: dict[TargetKind, str] = {
    TargetKind.SIGN_AMOUNT: "新签约项目签约额",
    TargetKind.NEW_START_INVESTMENT: "新开工项目投资额",
    TargetKind.MFG_SIGN_AMOUNT: "制造业招商项目签约额",
    TargetKind.MFG_SIGN_COUNT: "制造业项目签约个数",
}
TARGET_EN: dict[TargetKind, str] = {
    TargetKind.SIGN_AMOUNT: "Amount signed by new projects",
    TargetKind.NEW_START_INVESTMENT: "Investment of newly started projects",
    TargetKind.MFG_SIGN_AMOUNT: "Amount signed by manufacturing projects",
    TargetKind.MFG_SIGN_COUNT: "Manufacturing projects signed",
}


class CancelReason(StrEnum):
    INVESTOR_FUNDING = "INVESTOR_FUNDING"
    POLICY = "POLICY"
    LAND = "LAND"
    MERGED = "MERGED"
    DUPLICATE = "DUPLICATE"
    OTHER = "OTHER"
    # 调出: taken off the campaign's assessment by a decision for objective reasons, not a failed
    # project; it leaves the indicators' denominators from its effective date on.
    WITHDRAWN = "WITHDRAWN"


class ReportPeriodKind(StrEnum):
    """旬报 (key `2023-03-X2` = March 中旬) or 月报 (key `2023-03`)."""

    XUN = "XUN"
    MONTH = "MONTH"


class Severity(StrEnum):
    """Alert colours, lowercase on the wire (docs/api.md, conventions)."""

    BLUE = "blue"
    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.BLUE: 0,
    Severity.GREEN: 1,
    Severity.YELLOW: 2,
    Severity.ORANGE: 3,
    Severity.RED: 4,
}


class AlertRule(StrEnum):
    """Alert rule ids of docs/domain.md#the-rule-book (the milestone service evaluates them)."""

    R01 = "R01"  # signed, no 履约 evidence
    R02 = "R02"  # signed but not started
    R03 = "R03"  # funds arrival low
    R04 = "R04"  # investment behind 序时进度 (per 旬 and month)
    R05 = "R05"  # milestone overdue
    R06 = "R06"  # no substantive progress (stalled 2/3 weeks)
    R07 = "R07"  # 旬/月 report missing
    R08 = "R08"  # started but not in statistics
    R09 = "R09"  # started, planned production date passed
    R10 = "R10"  # in production but not 达效
    R11 = "R11"  # suspended too long
    R12 = "R12"  # issue (交办事项) overdue
    R13 = "R13"  # cancellation candidate
    R14 = "R14"  # portfolio conversion below target
    R15 = "R15"  # annual target pace
    R16 = "R16"  # data quality
    R17 = "R17"  # deadline approaching (blue)
    R18 = "R18"  # slip forecast: the projected start or production date passes the plan


# What each rule is called: the alert messages and digests, the rule book (GET /v1/rules) and the
# pages say these words, edited here only (three copies had drifted, and one lacked R18).
ALERT_RULE_ZH: dict[AlertRule, str] = {
    AlertRule.R01: "签约后未履约",
    AlertRule.R02: "签约后未开工",
    AlertRule.R03: "资金到位率低",
    AlertRule.R04: "投资完成滞后序时进度",
    AlertRule.R05: "节点逾期",
    AlertRule.R06: "无实质进展",
    AlertRule.R07: "旬报/月报未报",
    AlertRule.R08: "开工未入库纳统",
    AlertRule.R09: "逾期未投产",
    AlertRule.R10: "投产未达效",
    AlertRule.R11: "停工时间过长",
    AlertRule.R12: "交办事项逾期",
    AlertRule.R13: "建议清理",
    AlertRule.R14: "转化率低于目标",
    AlertRule.R15: "年度目标进度滞后",
    AlertRule.R16: "数据质量问题",
    AlertRule.R17: "临近截止",
    AlertRule.R18: "预计晚于计划",
}
ALERT_RULE_EN: dict[AlertRule, str] = {
    AlertRule.R01: "signed, contract not yet fulfilled",
    AlertRule.R02: "signed but not started",
    AlertRule.R03: "funds arrival low",
    AlertRule.R04: "investment behind time progress",
    AlertRule.R05: "milestone overdue",
    AlertRule.R06: "no substantive progress",
    AlertRule.R07: "progress report missing",
    AlertRule.R08: "started but not in statistics",
    AlertRule.R09: "production date passed",
    AlertRule.R10: "in production, target output not reached",
    AlertRule.R11: "suspended too long",
    AlertRule.R12: "assigned issue overdue",
    AlertRule.R13: "cancellation candidate",
    AlertRule.R14: "conversion rate below target",
    AlertRule.R15: "annual target pace behind",
    AlertRule.R16: "data quality problem",
    AlertRule.R17: "deadline approaching",
    AlertRule.R18: "projected to miss the plan",
}


# The four park operation centres of 郑州高新区 (docs/domain.md, Parks and levels). Deployments for other districts
# configure their own list in the registry's settings.
class IssueCategory(StrEnum):
    """What a 交办事项 (assigned issue) is about (docs/assigned-issues.md)."""

    LAND = "LAND"  # 用地手续
    APPROVAL = "APPROVAL"  # 审批手续
    FUNDING = "FUNDING"  # 资金
    POWER = "POWER"  # 电力接入
    DEMOLITION = "DEMOLITION"  # 征迁
    OTHER = "OTHER"  # 其他


ISSUE_CATEGORY_LABELS: dict[IssueCategory, str] = {
    IssueCategory.LAND: "用地手续",
    IssueCategory.APPROVAL: "审批手续",
    IssueCategory.FUNDING: "资金",
    IssueCategory.POWER: "电力接入",
    IssueCategory.DEMOLITION: "征迁",
    IssueCategory.OTHER: "其他",
}


class IssueTerm(StrEnum):
    """The 13710 term of an assigned issue: routine issues 7 working days, major ones 1 month."""

    ROUTINE = "ROUTINE"  # 一般事项
    MAJOR = "MAJOR"  # 重大事项


class IssueStatus(StrEnum):
    """OPEN when assigned, IN_PROGRESS once the unit gave feedback, CLOSED when 销号."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    CLOSED = "CLOSED"


ZHENGZHOU_HIGH_TECH_PARKS: tuple[str, ...] = ("梧桐", "双桥", "石佛", "枫杨")
