"""What a period's, a target's or an indicator request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

PERIOD_EXISTS = template(
    "period.exists", zh="第 {number} 期已存在", en="period {number} already exists"
)
QUARTER_MISMATCH = template(
    "period.quarter_mismatch",
    zh="季度 {quarter} 不包含活动日期 {day}",
    en="quarter {quarter} does not contain the event date {day}",
)
QUARTER_IS = template(
    "period.quarter_is", zh="活动日期在 {quarter}", en="the event date is in {quarter}"
)
DATE_ORDER = template(
    "period.date_order", zh="期次须按活动日期先后编号", en="periods are numbered in date order"
)
AFTER_PERIOD = template(
    "period.after",
    zh="应晚于第 {number} 期的 {day}",
    en="must be after period {number}'s {day}",
)
BEFORE_PERIOD = template(
    "period.before",
    zh="应早于第 {number} 期的 {day}",
    en="must be before period {number}'s {day}",
)
NO_PERIOD = template(
    "period.missing", zh="第 {number} 期不存在", en="period {number} does not exist"
)
NO_SUCH_MOVE = template(
    "period.no_such_move",
    zh="第 {number} 期当前为 {status}，不能变为 {to}",
    en="period {number} is {status}; it cannot become {to}",
)
DISTRICT_TARGET_ADMIN = template(
    "target.district_admin",
    zh="只有管理员可以设定{district}的目标",
    en="only an admin sets {district}'s targets",
)
UNKNOWN_SCOPE = template(
    "target.unknown_scope", zh="没有这个范围 {scope}", en="unknown scope {scope}"
)
ONE_OF = template("choice.one_of", zh="应为 {choices} 之一", en="one of {choices}")
UNKNOWN_PARK = template("indicators.unknown_park", zh="没有园区 {park}", en="unknown park {park}")
