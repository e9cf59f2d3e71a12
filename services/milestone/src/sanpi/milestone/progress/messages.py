"""What a progress report is refused for, in Chinese and English: every route answers in the
reader's language (Accept-Language), Chinese unless English is asked for."""

from __future__ import annotations

from sanpi.kit.messages import template

CANCELLED = template(
    "progress.cancelled",
    zh="项目已取消，不再填报进度",
    en="the project is CANCELLED; it reports no more progress",
)
BACKDATE_ADMIN = template(
    "progress.backdate_admin",
    zh="只有管理员可以补填历史填报日期",
    en="only an admin may backdate a report",
)
AFTER_TODAY = template("date.after_today", zh="晚于今天（{today}）", en="is after today ({today})")
NOT_STARTED = template(
    "progress.period_not_started",
    zh="{period} 在 {day} 还没有开始",
    en="{period} has not started on {day}",
)
YTD_ABOVE_CUM = template(
    "progress.ytd_above_cum",
    zh="本年完成投资 {ytd} 万元超过累计完成投资 {cum} 万元",
    en="{ytd} exceeds completed_investment_cum {cum}",
)
ABOVE_TOTAL = template(
    "progress.above_total",
    zh="累计完成投资 {cum} 万元超过项目总投资 {total} 万元",
    en="{cum} exceeds the total investment of {total} (10k yuan)",
)
ALREADY_REPORTED = template(
    "progress.already_reported",
    zh="{period} 已经填报过；如需修改，请标记为更正（correction=true）",
    en="{period} was already reported; send correction=true to replace it",
)
BELOW_EARLIER = template(
    "progress.below_earlier", zh="低于此前一期已填报的 {before} 万元", en="below {before}"
)
ABOVE_LATER = template(
    "progress.above_later", zh="高于之后一期已填报的 {after} 万元", en="above the later {after}"
)
CUM_FALLS = template(
    "progress.cum_falls",
    zh="累计完成投资 {cum} 万元{bound}；累计数不能下降，如果此前的数字有误，请标记为更正（correction=true）",
    en="cumulative {cum} is {bound} reported for an earlier period; a cumulative figure cannot "
    "fall: send correction=true if the earlier figure was wrong",
)
PERIOD_INVALID = template(
    "progress.period_invalid",
    zh="应为 2023-03-X2（旬，X1 上旬、X2 中旬、X3 下旬）或 2023-03（月），收到 {input}",
    en="{reason}",
)
KIND_MISMATCH = template(
    "progress.kind_mismatch",
    zh="{key} 是{kind_zh}，与期间类型 {value} 不符",
    en="{key} is a {kind} period, not {value}",
)
SAME_IN_BATCH = template(
    "batch.same_period",
    zh="本批第 {other} 条已经填报了这个项目的 {period}",
    en="row {other} of this batch already reports {period} of this project",
)
NOTHING_WRITTEN = template(
    "batch.nothing_written",
    zh="整批未写入（all_or_nothing）：第 {rows} 条被拒绝",
    en="nothing was written (all_or_nothing): row(s) {rows} refused",
)

BATCH_EMPTY = template(
    "batch.empty",
    zh="一批至少要有一条进度填报（reports）或里程碑（milestones）",
    en="a batch needs at least one report (reports) or milestone (milestones)",
)
BATCH_TOO_LARGE = template(
    "batch.too_large",
    zh="一批最多 {most} 条（进度填报与里程碑合计），收到 {rows} 条",
    en="a batch takes at most {most} rows (reports and milestones together), not {rows}",
)
NOTHING_WRITTEN_OF = template(
    "batch.nothing_written_of",
    zh="整批未写入（all_or_nothing）：{rows}被拒绝",
    en="nothing was written (all_or_nothing): {rows} refused",
)


# The annual investment plan's refusals (PUT /v1/projects/{id}/plans/{year}).
PLAN_ABOVE_TOTAL = template(
    "plan.above_total",
    zh="超过项目总投资（{total} 万元）",
    en="exceeds the total investment of {total} (10k yuan)",
)
SPLIT_SUM = template(
    "plan.split_sum",
    zh="合计 {sum} 万元，不等于年度计划 {annual} 万元",
    en="adds up to {sum}, not annual_plan {annual}",
)
XUN_BY_MONTH = template(
    "plan.xun_by_month",
    zh="每月三个旬的计划之和须等于该月计划",
    en="the plans of a month's three ten-day periods (xun) must add up to its monthly plan",
)
# The summary of any of the plan's refusals (above the total, a split that does not add up):
# each field says which.
PLAN_REFUSED = template(
    "plan.refused",
    zh="年度投资计划有误，见各项说明",
    en="the investment plan is refused; see each field",
)
NEGATIVE_AMOUNTS = template(
    "progress.negative_amounts", zh="金额不能为负数", en="amounts must not be negative"
)
