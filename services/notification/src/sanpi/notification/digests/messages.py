"""What a subscription's digest settings are refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

NOT_A_TIME = template(
    "digest.not_a_time",
    zh="汇总时间应为 24 小时制的 时:分，如 08:30，收到 {given}",
    en="expected HH:MM, e.g. 08:30, not {given}",
)
NO_TIME = template(
    "digest.no_time",
    zh="请填写每日汇总时间 daily_at 或旬末汇总时间 xun_at",
    en="give daily_at, xun_at or both",
)
STREAM_HAS_NO_DIGEST = template(
    "digest.stream",
    zh="实时流渠道不排队，不能发送汇总",
    en="a stream subscription queues nothing, so it has no digest",
)
