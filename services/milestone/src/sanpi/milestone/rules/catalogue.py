"""The rule book as people read it: each rule's code, title and description in Chinese and
English, its colours, and whether sanpi evaluates it (GET /v1/rules, with the thresholds in force)."""

from __future__ import annotations

from dataclasses import dataclass

from sanpi.events import AlertRule, Severity

Y, ORANGE, R, B = Severity.YELLOW, Severity.ORANGE, Severity.RED, Severity.BLUE


@dataclass(frozen=True)
class RuleText:
    """What a rule checks; its name (title) is sanpi.events' ALERT_RULE_ZH / ALERT_RULE_EN."""

    description_zh: str
    description_en: str
    severities: tuple[Severity, ...]


CATALOGUE: dict[AlertRule, RuleText] = {
    AlertRule.R01: RuleText(
        "签约项目超过 60 天仍无履约记录 (履约节点, 或取得土地、规划许可、施工许可) 为黄色, "
        "超过 90 天为红色。",
        "A signed project with no record of 履约 (the FULFILLED milestone, or land, a planning "
        "or construction permit achieved) more than 60 days after signing is yellow, more than "
        "90 days red.",
        (Y, R),
    ),
    AlertRule.R02: RuleText(
        "计划开工当月结束仍未开工为黄色; 超过计划开工 3 个月, 或签约满 180 天仍未开工为红色。",
        "Yellow once the planned start month has ended without a start; red 3 months past the "
        "planned start, or 180 days after signing.",
        (Y, R),
    ),
    AlertRule.R03: RuleText(
        "有签约额的项目, 签约满 3 个月最近一次填报的累计到位资金低于签约额 25% 为黄色, "
        "满 6 个月仍低于 25% 为红色; 没有签约额或从未填报到位资金的项目不判断。",
        "For a project with a contract amount: funds arrived (the latest report giving them) "
        "below 25 % of the contract amount 3 months after signing is yellow, 6 months after "
        "red. Without a contract amount or any funds figure the rule stays silent.",
        (Y, R),
    ),
    AlertRule.R04: RuleText(
        "在建或投产项目的年度完成投资落后计划应完成（按分月或分旬计划）或序时进度 10–30 个百分点为黄色, "
        "30 个百分点及以上为红色 (按旬、按月分别判断)。",
        "Completed investment this year 10 to 30 points behind the plan's split or time "
        "progress is yellow, 30 points or more red (per 旬 and per month).",
        (Y, R),
    ),
    AlertRule.R05: RuleText(
        "当前阶段的节点逾期 1–7 天为黄色, 8–14 天为橙色, 15 天及以上为红色。",
        "A node of the current phase 1-7 days late is yellow, 8-14 orange, 15 or more red.",
        (Y, ORANGE, R),
    ),
    AlertRule.R06: RuleText(
        "在建项目连续 14 天完成投资与形象进度无变化为黄色, 21 天为红色。",
        "Under construction with no change in completed investment or physical progress for "
        "14 days is yellow, 21 days red.",
        (Y, R),
    ),
    AlertRule.R07: RuleText(
        "在建项目的旬报或月报过截止日未报为黄色, 连续 2 期未报为红色。",
        "A 旬 or month report missing after its deadline is yellow, 2 in a row red.",
        (Y, R),
    ),
    AlertRule.R08: RuleText(
        "开工超过 1 个月仍未登记入库纳统 (IN_STATISTICS 节点) 为黄色, 超过 2 个月为红色。",
        "Started more than a month ago and not yet entered in the investment statistics (the "
        "IN_STATISTICS milestone) is yellow, more than 2 months red.",
        (Y, R),
    ),
    AlertRule.R09: RuleText(
        "在建项目超过计划投产日期 1–30 天为黄色, 31–90 天为橙色, 91 天及以上为红色。",
        "Under construction past the planned production date: 1-30 days yellow, 31-90 orange, "
        "91 or more red.",
        (Y, ORANGE, R),
    ),
    AlertRule.R10: RuleText(
        "投产满 12 个月未达效为黄色, 满 24 个月为红色。",
        "In production for 12 months without reaching 达效 is yellow, 24 months red.",
        (Y, R),
    ),
    AlertRule.R11: RuleText(
        "停工 31 天为黄色, 91 天为红色; 没有复工计划的停工 31 天即为红色。",
        "Suspended for 31 days is yellow, 91 days red; 31 days without a planned resume date "
        "is red.",
        (Y, R),
    ),
    AlertRule.R12: RuleText(
        "交办事项超过 13710 时限 (反馈 3 天、一般 7 天、重大 1 个月) 为黄色, 超过两倍时限为红色。",
        "An assigned issue past its 13710 due time (3 days feedback, 7 days routine, 1 month "
        "major) is yellow, past twice the due time red.",
        (Y, R),
    ),
    AlertRule.R13: RuleText(
        "未开工项目签约未开工红灯超过 12 个月, 或签约满 12 个月到位资金仍低于签约额 25% "
        "(投资方资金未落实), 提示列入清理; 只是提示, 不会自动终止项目。",
        "A project not started whose R02 has been red for more than 12 months, or whose funds "
        "arrived are still below 25 % of the contract amount 12 months after signing (the "
        "investor's funding failed), is flagged for review (清理). An alert only: sanpi never "
        "cancels a project by itself.",
        (R,),
    ),
    AlertRule.R14: RuleText(
        "园区、全区或批次的签约项目开工率低于目标为黄色, 低于目标 20 个百分点为红色。",
        "A park's, the district's or a cohort's sign-to-start rate below target is yellow, 20 "
        "points below red.",
        (Y, R),
    ),
    AlertRule.R15: RuleText(
        "年度目标完成率落后序时进度 10 个百分点为黄色, 20 个百分点为红色。",
        "Attainment of an annual target 10 points behind time progress is yellow, 20 points red.",
        (Y, R),
    ),
    AlertRule.R16: RuleText(
        "90 天内 1 个数据问题 (累计数下调、形象进度倒退、完成超总投资、照片日期不符) 为黄色, "
        "2 个及以上为红色。",
        "One data problem in 90 days (a cumulative figure corrected down, physical progress "
        "falling, completed above the total, a photo of another day) is yellow, 2 or more red.",
        (Y, R),
    ),
    AlertRule.R17: RuleText(
        "节点 7 天内到期、报表 2 天内截止时蓝色预警。",
        "Blue when a milestone is due within 7 days or a report within 2 days.",
        (B,),
    ),
    AlertRule.R18: RuleText(
        "计划开工或投产日期到来之前, 按目前进度预计晚于现行计划 15 天为蓝色, 60 天为黄色 "
        "(预计方法见 GET /v1/projects/{id}/forecast)。",
        "Before the planned start or production date, a projection at the pace so far 15 days "
        "past the plan in force is blue, 60 days yellow (how it is projected: GET "
        "/v1/projects/{id}/forecast).",
        (B, Y),
    ),
}
