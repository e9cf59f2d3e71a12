"""企业微信 (WeCom) group robot: POST JSON to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…;
`msgtype: markdown` (content at most 4096 bytes, font colours info/comment/warning), and for a red
alert with people to remind, `msgtype: text` with `mentioned_mobile_list` (content at most 2048
bytes), since the robot's markdown cannot @ by mobile number. No signature: the key in the URL
is the secret. 20 messages a minute per robot; errcode 45009 means over it."""

from __future__ import annotations

import json
import re

from sanpi.notification.channels import robots
from sanpi.notification.channels.base import Outgoing
from sanpi.notification.channels.robots import Robot, RobotRequest

VENDOR = robots.Vendor(
    channel="wecom",
    name_zh="企业微信",
    name_en="WeCom",
    hosts=frozenset({"qyapi.weixin.qq.com"}),
    path=re.compile(r"/cgi-bin/webhook/send"),
    token_param="key",  # noqa: S106 - a parameter name
    example="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    needs_secret=False,
    per_minute=20,
    rate_limited=frozenset({45009, 45033}),
    # invalid webhook url / key, wrong message type, empty content, content too long
    permanent=frozenset({93000, 93004, 40008, 44004, 40058, 45002}),
    bad_signature=frozenset(),
)
MARKDOWN_MAX = 4096
TEXT_MAX = 2048
# WeCom's markdown has three colours: warning (orange-red), info (green), comment (grey).
COLOURS = {"red": "warning", "orange": "warning", "yellow": "comment", "green": "info"}


def markdown(outgoing: Outgoing, link: str | None) -> str:
    message = outgoing.message
    lines = [
        f"### {message.subject}",
        *(f"> {line}" for line in robots.markdown_lines(message, colour=COLOURS)),
    ]
    if link:
        lines.append(f"[{robots.label_of(outgoing)}]({link})")
    return robots.fit("\n".join(lines), MARKDOWN_MAX)


def text(outgoing: Outgoing, link: str | None) -> str:
    message = outgoing.message
    lines = [message.subject, *(f"{label}：{value}" for label, value in message.facts)]
    if link:
        lines.append(f"{robots.label_of(outgoing)}：{link}")
    return robots.fit("\n".join(lines), TEXT_MAX)


class WecomChannel(Robot):
    name = "wecom"
    vendor = VENDOR

    def payload(self, outgoing: Outgoing, link: str | None, *, now_s: float) -> RobotRequest:
        body: dict[str, object]
        if outgoing.message.severity == "red" and outgoing.mentions:
            body = {
                "msgtype": "text",
                "text": {
                    "content": text(outgoing, link),
                    "mentioned_mobile_list": list(outgoing.mentions),
                },
            }
        else:
            body = {"msgtype": "markdown", "markdown": {"content": markdown(outgoing, link)}}
        return RobotRequest(outgoing.target, json.dumps(body, ensure_ascii=False).encode())
