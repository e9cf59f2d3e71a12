"""What the alert rules say to people, in Chinese and English: one template per title and detail, so
the two languages are written side by side and carry the same figures (the alert events' title and
message, title_en and message_en)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypedDict

from sanpi.kit.messages import Bilingual, Lang, template


class Said(Protocol):
    """A text that reads differently per language (a Message, or a Bilingual built from several)."""

    def render(self, lang: Lang) -> str: ...


class Texts(TypedDict):
    """An alert's words in both languages, as DesiredAlert's fields take them."""

    title: str
    message: str
    title_en: str
    message_en: str


NONE = Bilingual("", "")


def texts(title: Said, message: Said = NONE) -> Texts:
    return {
        "title": title.render("zh"),
        "message": message.render("zh"),
        "title_en": title.render("en"),
        "message_en": message.render("en"),
    }


def joined(parts: Iterable[Said], zh: str = "; ", en: str = "; ") -> Bilingual:
    """Several texts as one list (each language with its own separator)."""
    found = list(parts)
    return Bilingual(zh.join(p.render("zh") for p in found), en.join(p.render("en") for p in found))


def both(zh: str, en: str) -> Bilingual:
    return Bilingual(zh, en)


# Words the rules fill in: a report period's kind, R04's yardstick, R18's target.
XUN_OR_MONTH_TITLE = {"XUN": both("旬", "ten-day"), "MONTH": both("月", "monthly")}
PLAN_EXPECTS = both("计划应完成", "the plan's share")
TIME_PROGRESS = both("序时进度", "time progress")
START = both("开工", "start")
PRODUCTION = both("投产", "production")

# --- project rules ------------------------------------------------------------------------------

R01_TITLE = template("alert.R01.title", zh="{name}: 签约未履约", en="{name}: signed, not fulfilled")
R01 = template(
    "alert.R01.message",
    zh="{signed} 签约, {days} 天无履约记录 (未登记履约, 也未取得土地、规划许可或施工许可)",
    en="signed on {signed}, no fulfilment for {days} days (none recorded, and no land, planning "
    "permit or construction permit obtained)",
)
R02_TITLE = template("alert.R02.title", zh="{name}: 签约未开工", en="{name}: signed, not started")
R02 = template(
    "alert.R02.message",
    zh="签约 {days_signed} 天未开工",
    en="not started {days_signed} days after signing",
)
R02_PLANNED = template(
    "alert.R02.planned",
    zh="计划开工 {start} 已过 {late} 天仍未开工 (签约 {days_signed} 天)",
    en="planned start {start} passed {late} days ago, still not started (signed {days_signed} "
    "days ago)",
)
R03_TITLE = template("alert.R03.title", zh="{name}: 资金到位率低", en="{name}: funds arrival low")
R03 = template(
    "alert.R03.message",
    zh="{signed} 签约, 截至 {period} 到位资金 {funds} 万元 / 签约额 {amount} 万元 = {share}%, "
    "签约满 {months} 个月仍低于 {min_share:.0%}",
    en="signed on {signed}; by {period} funds arrived {funds} / contract amount {amount} "
    "(10k yuan) = {share}%, still below {min_share:.0%} {months} months after signing",
)
R04_TITLE = template(
    "alert.R04.title",
    zh="{name}: 投资完成低于{basis} ({kind})",
    en="{name}: investment completed below {basis} (by the {kind} reports)",
)
R04 = template(
    "alert.R04.message",
    zh="截至 {period} 年度完成 {ytd} 万元 / 计划 {annual} 万元 = {share}%, {basis} {expected}%, "
    "落后 {gap} 个百分点",
    en="by {period} completed this year {ytd} / plan {annual} (10k yuan) = {share}%, {basis} "
    "{expected}%, behind by {gap} percentage points",
)
SLIPPED_LATER = template(
    "alert.slipped.later",
    zh=", 较原计划 {original} 推迟 {days} 天",
    en=", {days} days later than the original plan {original}",
)
SLIPPED_EARLIER = template(
    "alert.slipped.earlier",
    zh=", 较原计划 {original} 提前 {days} 天",
    en=", {days} days earlier than the original plan {original}",
)
R05_TITLE = template(
    "alert.R05.title",
    zh="{name}: 节点逾期 {milestone}",
    en="{name}: milestone overdue: {milestone}",
)
R05_LATE = template(
    "alert.R05.late",
    zh="{milestone} 逾期 {days} 天 (计划 {due}{slipped})",
    en="{milestone} {days} days overdue (planned {due}{slipped})",
)
R06_TITLE = template(
    "alert.R06.title", zh="{name}: 无实质进展", en="{name}: no substantive progress"
)
R06 = template(
    "alert.R06.message",
    zh="自 {since} 起 {days} 天完成投资与形象进度无变化 (至 {period})",
    en="investment completed and physical progress unchanged for {days} days since {since} "
    "(up to {period})",
)
R07_TITLE = template(
    "alert.R07.title", zh="{name}: {kind}报未报", en="{name}: {kind} report missing"
)
R07 = template(
    "alert.R07.message",
    zh="连续 {count} 期未按时填报: {periods}",
    en="{count} periods in a row not reported on time: {periods}",
)
R08_TITLE = template(
    "alert.R08.title", zh="{name}: 开工未入库纳统", en="{name}: started, not in statistics"
)
R08 = template(
    "alert.R08.message",
    zh="{start} 开工, {days} 天 (超过 {months} 个月) 未入库纳统",
    en="started on {start}, not entered in statistics for {days} days (over {months} months)",
)
R09_TITLE = template(
    "alert.R09.title", zh="{name}: 计划投产日期已过", en="{name}: planned production date passed"
)
R09 = template(
    "alert.R09.message",
    zh="计划投产 {planned}{slipped}, 已过 {days} 天仍在建",
    en="production planned for {planned}{slipped}, {days} days ago, still under construction",
)
R10_TITLE = template(
    "alert.R10.title",
    zh="{name}: 投产未达效",
    en="{name}: in production, target output not reached",
)
R10 = template(
    "alert.R10.message",
    zh="{since} 投产, {months} 个月仍未达效",
    en="in production since {since}, target output not reached after {months} months",
)
R11_TITLE = template("alert.R11.title", zh="{name}: 停工时间过长", en="{name}: suspended too long")
R11 = template(
    "alert.R11.message",
    zh="自 {since} 停工 {days} 天, {plan}",
    en="suspended for {days} days since {since}, {plan}",
)
R11_RESUME = template(
    "alert.R11.resume", zh="计划复工 {resume}", en="work planned to resume on {resume}"
)
R11_NO_RESUME = template("alert.R11.no_resume", zh="无复工计划", en="no plan to resume")
R12_TITLE = template(
    "alert.R12.title",
    zh="{name}: 交办事项逾期 ({unit})",
    en="{name}: assigned issue overdue ({unit})",
)
R12_TWICE = template(
    "alert.R12.twice",
    zh="超过办结期限 {due} 已达规定时限的两倍",
    en="past its due date {due} by twice the time allowed",
)
R12_LATE = template(
    "alert.R12.late",
    zh="已过办结期限 {due} {days} 天",
    en="{days} days past its due date {due}",
)
R12_NO_FEEDBACK = template(
    "alert.R12.no_feedback",
    zh="反馈期限 {due} 已过，责任单位尚未反馈",
    en="feedback was due {due}; the responsible unit has not answered",
)
R13_TITLE = template(
    "alert.R13.title", zh="{name}: 建议列入清理", en="{name}: proposed for clean-up"
)
R13 = template(
    "alert.R13.message",
    zh="{reasons} (仅为提示, 是否终止由登记机关决定)",
    en="{reasons} (a prompt only: the registering office decides whether to cancel)",
)
R13_RED = template(
    "alert.R13.red",
    zh="自 {since} 签约未开工红灯已 {months} 个月",
    en="signed but not started has been red for {months} months since {since}",
)
R13_FUNDING = template(
    "alert.R13.funding",
    zh="签约满 {months} 个月到位资金仅 {funds} 万元 (签约额的 {share}%), 投资方资金未落实",
    en="{months} months after signing only {funds} (10k yuan) of funds arrived ({share}% of "
    "the contract amount): the investor's funding is not in place",
)
R16_TITLE = template(
    "alert.R16.title", zh="{name}: 数据质量问题", en="{name}: data quality problems"
)
R16_LOWERED = template(
    "alert.R16.lowered",
    zh="{period} 累计完成投资被下调 (更正)",
    en="{period}: cumulative investment completed was lowered (a correction)",
)
R16_PCT_DOWN = template(
    "alert.R16.pct_down",
    zh="{period} 形象进度 {pct}% 低于此前的 {highest}%",
    en="{period}: physical progress {pct}% is below the earlier {highest}%",
)
R16_OVER_TOTAL = template(
    "alert.R16.over_total",
    zh="累计完成 {cum} 万元超过总投资 {total} 万元",
    en="cumulative completed {cum} exceeds the total investment of {total} (10k yuan)",
)
R16_UNDATED = template(
    "alert.R16.undated",
    zh="{date} {milestone} 照片没有拍摄时间",
    en="{date} {milestone}: the photo has no capture date",
)
R16_MISDATED = template(
    "alert.R16.misdated",
    zh="{date} {milestone} 照片拍摄于 {captured}, 与里程碑日期不一致",
    en="{date} {milestone}: the photo was taken on {captured}, not on the milestone's date",
)
R17_TITLE = template("alert.R17.title", zh="{name}: 临近截止", en="{name}: deadline approaching")
R17_MILESTONE = template(
    "alert.R17.milestone",
    zh="{milestone} 计划 {due} (还有 {days} 天)",
    en="{milestone} planned for {due} ({days} days left)",
)
R17_REPORT = template(
    "alert.R17.report", zh="{period} 报表截止 {deadline}", en="{period} report due {deadline}"
)
R18_TITLE = template(
    "alert.R18.title", zh="{name}: 预计晚于计划", en="{name}: projected to miss the plan"
)
R18_SLIP = template(
    "alert.R18.slip",
    zh="计划{target} {planned}, 预计 {projected} (推迟 {days} 天): {basis}",
    en="{target} planned for {planned}, projected {projected} ({days} days late): {basis}",
)

# --- the forecasts R18 reads (rules.forecast) ------------------------------------------------------

BEFORE_START_LATE = template(
    "forecast.before_start_late",
    zh="前期节点 {milestone} 延误 {days} 天",
    en="pre-construction milestone {milestone} {days} days late",
)
BEFORE_START_ON_PLAN = template(
    "forecast.before_start_on_plan", zh="前期节点按计划", en="pre-construction milestones on plan"
)
CONSTRUCTION_ON_PLAN = template(
    "forecast.construction_on_plan", zh="建设节点按计划", en="construction milestones on plan"
)
CONSTRUCTION_LATE = template(
    "forecast.construction_late",
    zh="建设节点 {milestone} 延误 {days} 天",
    en="construction milestone {milestone} {days} days late",
)
LATE_START = template(
    "forecast.late_start",
    zh="按原计划工期 {period} 天, 开工后推迟 {late} 天",
    en="the original plan's {period} days of construction from the start: {late} days later",
)
ANNUAL_DONE = template(
    "forecast.annual_done", zh="年度计划投资已完成", en="the year's planned investment is completed"
)
ANNUAL_NOTHING = template(
    "forecast.annual_nothing", zh="本年尚无完成投资", en="no investment completed this year yet"
)
ANNUAL_PACE = template(
    "forecast.annual_pace",
    zh="截至 {end} 完成年度计划 {pct}%, 按此进度",
    en="{pct}% of the year's plan completed by {end}, at this pace",
)
ANNUAL_NEVER = template(
    "forecast.annual_never",
    zh="截至 {end} 完成年度计划 {pct}%, 按此进度十年内无法完成",
    en="{pct}% of the year's plan completed by {end}: at this pace not within ten years",
)

# --- scoped rules (rules.scoped) -----------------------------------------------------------------

R14_TITLE = template(
    "alert.R14.title",
    zh="{name}: 第{period}期签约项目开工率低于目标",
    en="{name}: start rate of period {period}'s signings below target",
)
R14 = template(
    "alert.R14.message",
    zh="截至 {as_of} 第{period}期签约满 {days} 天的 {count} 个项目已开工 {started} 个, "
    "开工率 {rate}%, 目标 {target}%",
    en="by {as_of}, {started} of the {count} projects of period {period} signed at least {days} "
    "days ago have started: start rate {rate}%, target {target}%",
)
R15_TITLE = template(
    "alert.R15.title",
    zh="{name}: {year}年{label}进度落后序时进度",
    en="{name}: {year} {label} behind time progress",
)
R15 = template(
    "alert.R15.message",
    zh="截至 {as_of} {label}完成 {actual} / 目标 {target} = {ratio}%, 序时进度 {progress}%, "
    "落后 {behind} 个百分点",
    en="by {as_of} {label}: {actual} of the target {target} = {ratio}%, time progress "
    "{progress}%, behind by {behind} percentage points",
)
