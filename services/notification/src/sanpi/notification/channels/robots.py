"""What the three group robots (企业微信, 钉钉, 飞书) share: the vendor's URL shape and hosts, the
per-robot rate limits (queueing, not dropping; held across replicas by channels/ledger.py), the
facts a message shows with its portal link, and reading a 200 answer whose `errcode` (or `code`)
says it failed."""

from __future__ import annotations

import hashlib
import json
import re
import time
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sanpi.kit import FieldProblem
from sanpi.kit.messages import Bilingual
from sanpi.notification.channels import http
from sanpi.notification.channels import messages as refusals
from sanpi.notification.channels.base import Context, Outgoing, Plugin, Target, only
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.ledger import Limit
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Message

MOBILE = re.compile(r"^1\d{10}$")
MAX_MENTIONS = 20
WINDOW_S = 60.0
SECOND_S = 1.5  # a vendor's second as its per-second limit is counted here (jitter: see limits)


@dataclass(frozen=True)
class Vendor:
    """What a vendor documents about its custom robot's webhook."""

    channel: str
    name_zh: str
    name_en: str
    hosts: frozenset[str]
    path: re.Pattern[str]  # the webhook's path, matched whole
    token_param: str | None  # the query parameter that names the robot, if the path does not
    example: str
    needs_secret: bool
    per_minute: int  # sends a minute per robot that sanpi allows itself (channels/ledger.py)
    # errcode (code) values: a rate limit (retry after a minute), and those no retry mends.
    rate_limited: frozenset[int]
    permanent: frozenset[int]
    bad_signature: frozenset[int]
    code_field: str = "errcode"
    per_second: int | None = None  # a limit a second as well, where the vendor documents one

    @property
    def named(self) -> Bilingual:
        """The vendor in a refusal, in the reader's language: 企业微信, WeCom."""
        return Bilingual(zh=self.name_zh, en=self.name_en)


@dataclass(frozen=True)
class RobotRequest:
    url: str
    body: bytes

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


def url_problems(vendor: Vendor, url: str | None, policy: Egress) -> list[FieldProblem]:
    """The URL must be the vendor's robot webhook: https on a vendor host, or (tests, `make up`)
    a loopback address when the settings allow loopback targets, with the vendor's path."""
    robot = vendor.named
    if not url:
        return [
            FieldProblem("url", refusals.ROBOT_URL_REQUIRED(robot=robot, example=vendor.example))
        ]
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = policy.allow_loopback and policy.refusal(_literal(host)) is None and _is_loopback(host)
    wrong = refusals.NOT_A_ROBOT_URL(robot=robot, example=vendor.example)
    if not local and (parts.scheme != "https" or host not in vendor.hosts):
        return [FieldProblem("url", wrong)]
    if not vendor.path.fullmatch(parts.path):
        return [FieldProblem("url", wrong)]
    if vendor.token_param is not None:
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        if not query.get(vendor.token_param):
            return [
                FieldProblem("url", refusals.ROBOT_URL_TOKEN(robot=robot, param=vendor.token_param))
            ]
    return []


def _literal(host: str) -> str:
    return "::1" if host in ("localhost", "::1") else host


def _is_loopback(host: str) -> bool:
    return host == "localhost" or host == "::1" or host.startswith("127.")


def link(portal_url: str, project_id: str | None) -> str | None:
    """The portal's page of the project (its home page for a digest), None without a portal."""
    if not portal_url:
        return None
    base = portal_url.rstrip("/")
    return f"{base}/projects/{project_id}" if project_id else f"{base}/"


def view_label(language: str, project: bool) -> str:
    if language == "en":
        return "Open the project in the portal" if project else "Open the portal"
    return "在三批门户查看项目" if project else "打开三批门户"


def label_of(outgoing: Outgoing) -> str:
    """The label of the message's link: its own (a bulletin), or the portal page's."""
    message = outgoing.message
    return message.link_label or view_label(outgoing.language, bool(message.project_id))


def markdown_lines(
    message: Message, *, bold: str = "**", colour: Mapping[str, str] | None = None
) -> list[str]:
    """`**label**：value` lines; the colour fact in the vendor's font colour when it has one."""
    lines = []
    for label, value in message.facts:
        shown = value
        if colour and label in ("颜色", "Colour") and (message.severity or "") in colour:
            shown = f'<font color="{colour[message.severity or ""]}">{value}</font>'
        lines.append(f"{bold}{label}{bold}：{shown}")
    return lines or message.text.splitlines()


def fit(text: str, limit_bytes: int) -> str:
    """Cuts a text to the vendor's limit in UTF-8 bytes, on a character boundary, marking it."""
    raw = text.encode()
    if len(raw) <= limit_bytes:
        return text
    return raw[: limit_bytes - 3].decode(errors="ignore") + "…"


class Robot(Plugin[RobotRequest | None, http.Answer | None]):
    """A vendor's custom group robot."""

    vendor: ClassVar[Vendor]

    def validate(self, target: Target, policy: Egress) -> list[FieldProblem]:
        keep = ("url", "secret", "mention_mobiles")
        problems = only(target, keep=keep, channel=self.name)
        problems += url_problems(self.vendor, target.url, policy)
        if self.vendor.needs_secret and not target.secret:
            problems.append(
                FieldProblem("secret", refusals.ROBOT_SECRET_REQUIRED(robot=self.vendor.named))
            )
        if not self.vendor.needs_secret and target.secret:
            problems.append(
                FieldProblem("secret", refusals.ROBOT_NO_SECRET(robot=self.vendor.named))
            )
        for index, mobile in enumerate(target.mention_mobiles):
            if not MOBILE.fullmatch(mobile):
                problems.append(
                    FieldProblem(f"mention_mobiles.{index}", refusals.NOT_A_MOBILE(mobile=mobile))
                )
        given = len(target.mention_mobiles)
        if given > MAX_MENTIONS:
            problems.append(
                FieldProblem(
                    "mention_mobiles", refusals.TOO_MANY_MENTIONS(most=MAX_MENTIONS, given=given)
                )
            )
        return problems

    @abstractmethod
    def payload(self, outgoing: Outgoing, link: str | None, *, now_s: float) -> RobotRequest:
        """The vendor's request for this message (URL with any signature, JSON body)."""

    def render(self, outgoing: Outgoing, ctx: Context, *, now: Any) -> RobotRequest | None:
        if self.vendor.needs_secret and not outgoing.secrets:
            return None
        target = outgoing.message.link or link(ctx.settings.portal_url, outgoing.message.project_id)
        return self.payload(outgoing, target, now_s=time.time())

    async def deliver(self, outgoing: Outgoing, ctx: Context) -> AttemptResult:
        # The vendor throttles a robot that sends more than it allows (钉钉: for 10 minutes), so a
        # message beyond a limit waits in the queue, unattempted. The database's send ledger holds
        # the limits across every replica and lane; a channel tried alone (no ledger) has none.
        if ctx.ledger is not None:
            key = hashlib.sha256(outgoing.target.encode()).hexdigest()
            taken = await ctx.ledger.take(key, self.limits(ctx.settings.robot_window_s))
            if not taken.allowed:
                return AttemptResult.later(taken.wait_s, self.limit_text())
            try:
                return await super().deliver(outgoing, ctx)
            finally:
                await ctx.ledger.sent(key, taken)
        return await super().deliver(outgoing, ctx)

    def limits(self, minute_s: float) -> list[Limit]:
        """The vendor's limits, the minute counted as `minute_s` (settings robot_window_s: a
        minute and a second), a second as SECOND_S: each with a margin for a send whose slots
        could not be stamped again after the robot's answer (Ledger.sent)."""
        limits = [Limit(self.vendor.per_minute, minute_s)]
        if self.vendor.per_second is not None:
            limits.append(Limit(self.vendor.per_second, SECOND_S))
        return limits

    def limit_text(self) -> str:
        per_second = self.vendor.per_second
        second = f", {per_second} a second" if per_second is not None else ""
        return f"{self.name}: {self.vendor.per_minute} a minute{second}"

    async def send(self, rendered: RobotRequest | None, ctx: Context) -> http.Answer | None:
        if rendered is None:
            return None
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "sanpi-notification/1.0",
        }
        return await http.post(ctx.client, rendered.url, body=rendered.body, headers=headers)

    def classify(self, sent: http.Answer | None) -> AttemptResult:
        if sent is None:
            return AttemptResult(
                None, "the robot's secret cannot be opened with SANPI_NOTIFICATION_SECRET_KEYS"
            )
        if sent.status is None:
            return AttemptResult(None, sent.error, None, sent.duration_ms)
        if sent.status != 200:
            return AttemptResult(
                sent.status,
                f"HTTP {sent.status}",
                http.parse_retry_after(sent.headers.get("retry-after")),
                sent.duration_ms,
                gone=sent.status == 410,
            )
        try:
            answer = json.loads(sent.body)
            code = int(answer.get(self.vendor.code_field, answer.get("StatusCode", 0)))
        except (ValueError, TypeError, AttributeError):
            return AttemptResult(200, "the robot's answer is not its JSON", None, sent.duration_ms)
        if code == 0:
            return AttemptResult.ok(200, sent.duration_ms)
        said = str(answer.get("errmsg") or answer.get("msg") or "")
        error = f"{self.name} {self.vendor.code_field} {code}: {said}"[:500]
        if code in self.vendor.bad_signature:
            # Retried and counted on the subscription's health (its last_error says so); a
            # wrong secret disables it only as any sustained failure does.
            error = f"{error} (signature refused: check the robot's secret)"[:500]
            return AttemptResult(200, error, None, sent.duration_ms)
        if code in self.vendor.rate_limited:
            return AttemptResult(200, error, WINDOW_S, sent.duration_ms)
        return AttemptResult(
            200, error, None, sent.duration_ms, give_up=code in self.vendor.permanent
        )
