"""钉钉 (DingTalk) custom robot with 加签: POST JSON to https://oapi.dingtalk.com/robot/send?
access_token=…&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256, key = the SEC… secret, message
= "timestamp\\nsecret">; the timestamp must be within an hour of DingTalk's clock. A red alert goes
as `msgtype: markdown` with `at.atMobiles` (and the @ in the text, as DingTalk shows it); other
messages as `msgtype: actionCard` with one button to the portal. 20 messages a minute per robot
(errcode 130101 / 410100 over it); errcode 310000 is a refused signature (or keyword, or IP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from urllib.parse import quote_plus

from sanpi.notification.channels import robots
from sanpi.notification.channels.base import Outgoing
from sanpi.notification.channels.robots import Robot, RobotRequest

VENDOR = robots.Vendor(
    channel="dingtalk",
    name_zh="钉钉",
    name_en="DingTalk",
    hosts=frozenset({"oapi.dingtalk.com"}),
    path=re.compile(r"/robot/send"),
    token_param="access_token",  # noqa: S106 - a parameter name
    example="https://oapi.dingtalk.com/robot/send?access_token=…",
    needs_secret=True,
    per_minute=20,
    rate_limited=frozenset({130101, 410100, -1}),
    # token missing, robot stopped, group dissolved, bad message
    permanent=frozenset({300001, 400013, 400101, 400102, 400105, 430101}),
    bad_signature=frozenset({310000}),
)
TEXT_MAX = 18_000


def sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value (already URL-encoded, as DingTalk's own example gives it)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def markdown(outgoing: Outgoing, link: str | None, *, mention: bool) -> str:
    """The text; `link` inline (an actionCard passes None: its button carries the link)."""
    message = outgoing.message
    lines = [f"### {message.subject}", *robots.markdown_lines(message)]
    if link:
        lines.append(f"[{robots.label_of(outgoing)}]({link})")
    if mention and outgoing.mentions:
        # DingTalk notifies the people in at.atMobiles whose @mobile is in the text.
        lines.append(" ".join(f"@{m}" for m in outgoing.mentions))
    return robots.fit("\n\n".join(lines), TEXT_MAX)


class DingtalkChannel(Robot):
    name = "dingtalk"
    vendor = VENDOR

    def payload(self, outgoing: Outgoing, link: str | None, *, now_s: float) -> RobotRequest:
        message = outgoing.message
        title = robots.fit(message.subject, 200)
        body: dict[str, object]
        red = message.severity == "red"
        if red or not link:
            body = {
                "msgtype": "markdown",
                "markdown": {"title": title, "text": markdown(outgoing, link, mention=red)},
            }
            if red:
                body["at"] = {"atMobiles": list(outgoing.mentions), "isAtAll": False}
        else:
            body = {
                "msgtype": "actionCard",
                "actionCard": {
                    "title": title,
                    "text": markdown(outgoing, None, mention=False),
                    "btnOrientation": "0",
                    "singleTitle": robots.label_of(outgoing),
                    "singleURL": link,
                },
            }
        url = signed_url(outgoing.target, outgoing.secrets[0], int(now_s * 1000))
        return RobotRequest(url, json.dumps(body, ensure_ascii=False).encode())
