"""What a channel refuses in a subscription's or contact's target, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

NOT_USED = template(
    "channel.field_not_used",
    zh="{channel} 渠道不使用此字段",
    en="not used by the {channel} channel",
)
URL_REQUIRED = template(
    "channel.url_required", zh="{channel} 渠道必须填写地址", en="required for the {channel} channel"
)
EMAIL_REQUIRED = template(
    "channel.email_required",
    zh="{channel} 渠道必须填写电子邮箱地址",
    en="required for the {channel} channel",
)
# {robot}: the vendor as people name it (企业微信, WeCom).
ROBOT_URL_REQUIRED = template(
    "channel.robot_url_required",
    zh="{robot}机器人渠道必须填写 Webhook 地址（{example}）",
    en="required for the {robot} robot channel, e.g. {example}",
)
NOT_A_ROBOT_URL = template(
    "channel.not_a_robot_url",
    zh="不是{robot}机器人的 Webhook 地址，应形如 {example}",
    en="not a {robot} robot URL; it looks like {example}",
)
ROBOT_URL_TOKEN = template(
    "channel.robot_url_token",
    zh="{robot}机器人地址缺少 {param} 参数",
    en="the {robot} robot URL is missing {param}",
)
ROBOT_SECRET_REQUIRED = template(
    "channel.robot_secret_required",
    zh="{robot}机器人需要填写安全设置中的签名密钥",
    en="the {robot} robot's signing secret (its security setting) is required",
)
ROBOT_NO_SECRET = template(
    "channel.robot_no_secret",
    zh="{robot}群机器人没有签名密钥",
    en="a {robot} robot has no signing secret",
)
NOT_A_MOBILE = template(
    "channel.not_a_mobile",
    zh="不是11位手机号码：{mobile}",
    en="not a mainland mobile number (11 digits): {mobile}",
)
TOO_MANY_MENTIONS = template(
    "channel.too_many_mentions",
    zh="最多 {most} 个，收到 {given} 个",
    en="at most {most}, not {given}",
)
