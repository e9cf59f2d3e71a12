"""飞书 (Feishu / Lark) custom bot with 签名校验: POST JSON to https://open.feishu.cn/open-apis/bot/
v2/hook/<id> (open.larksuite.com for Lark) whose body carries `timestamp` (seconds, within an hour
of Feishu's clock) and `sign` = base64 of HMAC-SHA256 with the key "timestamp\\nsecret" over an
empty message; the message is `msg_type: interactive`, a card with a coloured header, the facts in
lark_md and a button to the portal. A 200 answer with `code` != 0 failed: 19021 is a refused
signature, 11232 a rate limit (100 a minute and 5 a second per bot, Feishu documents; sanpi keeps
20 a minute, and the 5 a second)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from sanpi.notification.channels import robots
from sanpi.notification.channels.base import Outgoing
from sanpi.notification.channels.robots import Robot, RobotRequest

VENDOR = robots.Vendor(
    channel="feishu",
    name_zh="飞书",
    name_en="Feishu",
    hosts=frozenset({"open.feishu.cn", "open.larksuite.com"}),
    path=re.compile(r"/open-apis/bot/v2/hook/[A-Za-z0-9-]{8,64}"),
    token_param=None,
    example="https://open.feishu.cn/open-apis/bot/v2/hook/…",
    needs_secret=True,
    per_minute=20,
    rate_limited=frozenset({11232}),
    # bad request, bad params / token, keyword missing, IP not allowed, bot removed
    permanent=frozenset({9499, 19001, 19024, 19022, 19002, 19007}),
    bad_signature=frozenset({19021}),
    code_field="code",
    per_second=5,
)
# Header colours of a card (the card's `template`), by severity.
TEMPLATES = {"red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "blue": "blue"}
CONTENT_MAX = 18_000


def sign(secret: str, timestamp_s: int) -> str:
    """The body's `sign`: Feishu signs an empty message with "timestamp\\nsecret" as the key."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def card(outgoing: Outgoing, link: str | None) -> dict[str, Any]:
    message = outgoing.message
    elements: list[dict[str, Any]] = [
        {
            "tag": "div",
            "text": {
                "tag": "lark_md",
                "content": robots.fit("\n".join(robots.markdown_lines(message)), CONTENT_MAX),
            },
        }
    ]
    if link:
        label = robots.label_of(outgoing)
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": label},
                        "type": "primary",
                        "url": link,
                    }
                ],
            }
        )
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": TEMPLATES.get(message.severity or "", "blue"),
            "title": {"tag": "plain_text", "content": robots.fit(message.subject, 500)},
        },
        "elements": elements,
    }


class FeishuChannel(Robot):
    name = "feishu"
    vendor = VENDOR

    def payload(self, outgoing: Outgoing, link: str | None, *, now_s: float) -> RobotRequest:
        timestamp = int(now_s)
        body = {
            "timestamp": str(timestamp),
            "sign": sign(outgoing.secrets[0], timestamp),
            "msg_type": "interactive",
            "card": card(outgoing, link),
        }
        return RobotRequest(outgoing.target, json.dumps(body, ensure_ascii=False).encode())
