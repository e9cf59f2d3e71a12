"""What a subscription, stream, inbox or alert request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import Bilingual, template

# What the kit's stale-version refusal (kit.concurrency.STALE) names here.
SUBSCRIPTION = Bilingual(zh="订阅", en="subscription")

NO_SUBSCRIPTION = template(
    "subscription.missing",
    zh="订阅 {subscription_id} 不存在",
    en="subscription {subscription_id} not found",
)
NO_SECRET = template(
    "subscription.no_secret",
    zh="只有 webhook 订阅有签名密钥",
    en="only webhook subscriptions have a signing secret",
)
CHANNEL_HAS_NO_SECRET = template(
    "subscription.channel_no_secret", zh="{channel} 渠道没有密钥", en="{channel} has no secret"
)
STREAM_ONLY_LIVE = template(
    "subscription.stream_only_live",
    zh="stream 订阅只传递实时事件：请直接打开事件流",
    en="a stream subscription only carries live events; open the stream instead",
)
NOT_ACTIVE = template(
    "subscription.not_active",
    zh="订阅已暂停或停用：请先恢复",
    en="the subscription is paused or disabled; resume it first",
)
BAD_LAST_EVENT_ID = template(
    "stream.bad_last_event_id",
    zh="Last-Event-ID 须是本事件流发出过的编号",
    en="Last-Event-ID must be an id this stream sent",
)
NOT_A_POSITION = template(
    "stream.not_a_position", zh="不是事件流中的位置", en="not a stream position"
)
NO_INBOX_ITEM = template(
    "inbox.missing", zh="收件箱中没有 {item_id}", en="inbox item {item_id} not found"
)
NO_ALERT = template(
    "alert.missing",
    zh="通知服务不知道预警 {alert_key}",
    en="alert {alert_key} not known to the notification service",
)
DISTRICT_ALERT = template(
    "alert.district_admin",
    zh="预警 {alert_key} 涉及全区：仅管理员可以确认",
    en="alert {alert_key} concerns the whole district: only an admin acknowledges it",
)
UNKNOWN_EVENT_TYPE = template(
    "subscription.unknown_event_type",
    zh="没有这种事件类型：{value}",
    en="unknown event type {value}",
)
NO_EVENT_TYPE_MATCHES = template(
    "subscription.no_event_type_matches",
    zh="{value} 不匹配任何事件类型",
    en="{value} matches no event type",
)
QUIET_HOURS_EMPTY = template(
    "subscription.quiet_hours_empty",
    zh="免打扰时段的开始和结束不能相同",
    en="start and end must differ",
)
