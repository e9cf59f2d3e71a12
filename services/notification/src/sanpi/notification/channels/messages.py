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

# Why the SSRF guard (channels.egress) refuses a target URL: the subscription's 422 reads it in
# the reader's language, a delivery log in English (str of the exception).
URL_SCHEME = template(
    "channel.url_scheme",
    zh="只能调用 http 或 https 地址",
    en="only http and https URLs can be called",
)
URL_NO_HOST = template("channel.url_no_host", zh="地址中没有主机名", en="the URL has no host")
URL_PORT = template(
    "channel.url_port",
    zh="地址的端口不是 0 到 65535 之间的数字",
    en="the URL's port is not a number from 0 to 65535",
)
URL_UNRESOLVED = template(
    "channel.url_unresolved", zh="主机 {host} 无法解析", en="host {host} does not resolve"
)
HOST_REFUSED = template(
    "channel.host_refused",
    zh="主机 {host} 解析到 {address}：{reason}",
    en="host {host} resolves to {address}: {reason}",
)
ADDRESS_REFUSED = template(
    "channel.address_refused", zh="地址 {address}：{reason}", en="address {address}: {reason}"
)
NOT_AN_IP = template("egress.not_an_ip", zh="不是 IP 地址", en="not an IP address")
SCOPED_IPV6 = template(
    "egress.scoped_ipv6",
    zh="带作用域的（链路本地）IPv6 地址",
    en="a scoped (link-local) IPv6 address",
)
NAT64_LOCAL = template(
    "egress.nat64_local",
    zh="本地用途的 NAT64 地址（64:ff9b:1::/48）",
    en="a local-use NAT64 address (64:ff9b:1::/48)",
)
IPV4_COMPATIBLE = template(
    "egress.ipv4_compatible",
    zh="IPv4 兼容的 IPv6 地址（::/96）",
    en="an IPv4-compatible IPv6 address (::/96)",
)
CARRIES = template(
    "egress.carries", zh="其中包含 {inner}，{reason}", en="it carries {inner}, {reason}"
)
MULTICAST = template("egress.multicast", zh="组播地址", en="a multicast address")
NOT_PUBLIC = template("egress.not_public", zh="不是公网地址", en="not a public address")
