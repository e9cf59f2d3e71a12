"""Local stand-ins for the 企业微信, 钉钉 and 飞书 robot webhooks: HTTP servers on 127.0.0.1 that
check each request as the vendor documents it (the signature with the vendor's algorithm, the
timestamp within an hour, the body against the message schema, the 20-a-minute limit, 飞书's 5 a
second) and answer
as the vendor does: HTTP 200 with `errcode` / `code` 0, or the vendor's error code.

The checks are written from the vendors' documentation, not from sanpi's code, so that a sender
that drifts from the documented algorithm or schema is refused here as the real robot would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

HOUR_S = 3600
PER_MINUTE = 20
MINUTE_S = 60.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _bytes_at_most(limit: int) -> Any:
    def check(value: str) -> str:
        if len(value.encode()) > limit:
            raise ValueError(f"longer than {limit} bytes")
        return value

    return check


# --- 企业微信 群机器人: msgtype text / markdown ---------------------------------------------------


class WecomText(Strict):
    content: str = Field(min_length=1)
    mentioned_list: list[str] | None = None
    mentioned_mobile_list: list[str] | None = None

    _size = field_validator("content")(_bytes_at_most(2048))


class WecomMarkdown(Strict):
    content: str = Field(min_length=1)

    _size = field_validator("content")(_bytes_at_most(4096))


class WecomTextMessage(Strict):
    msgtype: Literal["text"]
    text: WecomText


class WecomMarkdownMessage(Strict):
    msgtype: Literal["markdown"]
    markdown: WecomMarkdown


# --- 钉钉 自定义机器人: msgtype text / markdown / actionCard ---------------------------------------


class DingtalkAt(Strict):
    atMobiles: list[str] | None = None  # noqa: N815 - the vendor's field name
    atUserIds: list[str] | None = None  # noqa: N815
    isAtAll: bool | None = None  # noqa: N815


class DingtalkMarkdown(Strict):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)


class DingtalkActionCard(Strict):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    btnOrientation: Literal["0", "1"] | None = None  # noqa: N815
    singleTitle: str = Field(min_length=1)  # noqa: N815
    singleURL: str = Field(pattern=r"^(https?|dingtalk)://")  # noqa: N815


class DingtalkMarkdownMessage(Strict):
    msgtype: Literal["markdown"]
    markdown: DingtalkMarkdown
    at: DingtalkAt | None = None


class DingtalkActionCardMessage(Strict):
    msgtype: Literal["actionCard"]
    actionCard: DingtalkActionCard  # noqa: N815


# --- 飞书 自定义机器人: msg_type interactive (a message card) -------------------------------------


class FeishuText(Strict):
    tag: Literal["plain_text", "lark_md"]
    content: str = Field(min_length=1)


class FeishuTitle(Strict):
    tag: Literal["plain_text"]
    content: str = Field(min_length=1)


class FeishuHeader(Strict):
    title: FeishuTitle
    template: (
        Literal[
            "blue",
            "wathet",
            "turquoise",
            "green",
            "yellow",
            "orange",
            "red",
            "carmine",
            "violet",
            "purple",
            "indigo",
            "grey",
            "default",
        ]
        | None
    ) = None


class FeishuDiv(Strict):
    tag: Literal["div"]
    text: FeishuText


class FeishuButton(Strict):
    tag: Literal["button"]
    text: FeishuText
    type: Literal["default", "primary", "danger"] | None = None
    url: str = Field(pattern=r"^https?://")


class FeishuAction(Strict):
    tag: Literal["action"]
    actions: list[FeishuButton] = Field(min_length=1)


class FeishuHr(Strict):
    tag: Literal["hr"]


class FeishuConfig(Strict):
    wide_screen_mode: bool | None = None
    enable_forward: bool | None = None


class FeishuCard(Strict):
    config: FeishuConfig | None = None
    header: FeishuHeader
    elements: list[Annotated[FeishuDiv | FeishuAction | FeishuHr, Field(discriminator="tag")]] = (
        Field(min_length=1)
    )


class FeishuInteractive(Strict):
    timestamp: str = Field(pattern=r"^\d{10}$")
    sign: str = Field(min_length=1)
    msg_type: Literal["interactive"]
    card: FeishuCard


# --- the receivers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Got:
    """One request a receiver accepted: the message as the group would show it."""

    body: dict[str, Any]
    query: dict[str, str]
    at: float


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RobotReceiver:
    """Checks and records requests; `script` holds error codes to answer first (as the vendor
    would, e.g. a rate limit), whatever the request. `minute_s` is the minute the 20-a-minute
    limit counts in (a test shortens it)."""

    code_field: ClassVar[str] = "errcode"
    message_field: ClassVar[str] = "errmsg"
    rate_code: ClassVar[int]
    per_second: ClassVar[int | None] = None

    def __init__(self, secret: str | None = None, *, minute_s: float = MINUTE_S) -> None:
        self.secret = secret
        self.minute_s = minute_s
        self.token = secrets.token_hex(16)
        self.accepted: list[Got] = []
        self.refused: list[tuple[int, str]] = []
        self.script: deque[int] = deque()
        self._times: list[float] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                answer = receiver.handle(self.path, dict(self.headers.items()), raw)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        raise NotImplementedError

    def start(self) -> RobotReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RobotReceiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def got(self) -> list[Got]:
        with self._lock:
            return list(self.accepted)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            try:
                if self.script:
                    code = self.script.popleft()
                    raise Refused(code, "scripted")
                content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
                if not content_type.startswith("application/json"):
                    raise Refused(self.bad_request_code(), f"content-type {content_type!r}")
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    raise Refused(self.bad_request_code(), "not UTF-8 JSON") from exc
                if not isinstance(body, dict):
                    raise Refused(self.bad_request_code(), "not a JSON object")
                self.check(parts.path, query, body)
                now = time.monotonic()
                self._times = [t for t in self._times if now - t < max(self.minute_s, 1.0)]
                minute = [t for t in self._times if now - t < self.minute_s]
                if len(minute) >= PER_MINUTE:
                    raise Refused(self.rate_code, "send too fast, exceed 20 times per minute")
                second = [t for t in self._times if now - t < 1.0]
                if self.per_second is not None and len(second) >= self.per_second:
                    raise Refused(self.rate_code, f"over {self.per_second} a second")
                self._times.append(now)
                self.accepted.append(Got(body, query, time.time()))
            except Refused as refused:
                self.refused.append((refused.code, refused.message))
                return {self.code_field: refused.code, self.message_field: refused.message}
        return {self.code_field: 0, self.message_field: "ok"}

    def bad_request_code(self) -> int:
        raise NotImplementedError

    def check(self, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        raise NotImplementedError


def _validate(models: dict[str, type[BaseModel]], kind: str | None, body: dict[str, Any]) -> None:
    model = models.get(str(kind))
    if model is None:
        raise ValueError(f"unknown message type {kind!r}")
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc


class WecomReceiver(RobotReceiver):
    """企业微信群机器人: /cgi-bin/webhook/send?key=<key>; no signature (the key is the secret)."""

    rate_code = 45009

    @property
    def url(self) -> str:
        return f"{self.origin}/cgi-bin/webhook/send?key={self.token}"

    def bad_request_code(self) -> int:
        return 40035

    def check(self, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        if path != "/cgi-bin/webhook/send" or query.get("key") != self.token:
            raise Refused(93000, "invalid webhook url")
        try:
            _validate(
                {"text": WecomTextMessage, "markdown": WecomMarkdownMessage},
                body.get("msgtype"),
                body,
            )
        except ValueError as exc:
            raise Refused(40008, f"invalid message: {exc}") from exc


class DingtalkReceiver(RobotReceiver):
    """钉钉自定义机器人 with 加签: /robot/send?access_token=…&timestamp=<ms>&sign=<urlencoded
    base64 HmacSHA256(key=secret, message="timestamp\\nsecret")>, timestamp within an hour."""

    rate_code = 130101

    def __init__(self, secret: str | None = None, *, minute_s: float = MINUTE_S) -> None:
        super().__init__(secret or "SEC" + secrets.token_hex(32), minute_s=minute_s)

    @property
    def url(self) -> str:
        return f"{self.origin}/robot/send?access_token={self.token}"

    def bad_request_code(self) -> int:
        return 40035

    def check(self, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        if path != "/robot/send" or query.get("access_token") != self.token:
            raise Refused(300001, "token is not exist")
        assert self.secret is not None
        timestamp = query.get("timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > HOUR_S * 1000:
            raise Refused(310000, "invalid timestamp")
        # parse_qs has already decoded the query once: what remains is the base64 signature.
        string_to_sign = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), string_to_sign, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(query.get("sign", ""), expected):
            raise Refused(310000, "sign not match")
        try:
            _validate(
                {"markdown": DingtalkMarkdownMessage, "actionCard": DingtalkActionCardMessage},
                body.get("msgtype"),
                body,
            )
        except ValueError as exc:
            raise Refused(40035, f"缺少参数或参数错误: {exc}") from exc


class FeishuReceiver(RobotReceiver):
    """飞书自定义机器人 with 签名校验: /open-apis/bot/v2/hook/<id>; the body's `sign` is base64 of
    HmacSHA256 with key "timestamp\\nsecret" over an empty message, timestamp (s) within an hour."""

    code_field = "code"
    message_field = "msg"
    rate_code = 11232
    per_second = 5  # and 100 a minute, more than the 20 every robot receiver here allows

    def __init__(self, secret: str | None = None, *, minute_s: float = MINUTE_S) -> None:
        super().__init__(secret or secrets.token_urlsafe(16), minute_s=minute_s)
        self.hook = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"

    @property
    def url(self) -> str:
        return f"{self.origin}/open-apis/bot/v2/hook/{self.hook}"

    def bad_request_code(self) -> int:
        return 9499

    def check(self, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        if path != f"/open-apis/bot/v2/hook/{self.hook}":
            raise Refused(19001, "param invalid: incoming webhook access token invalid")
        assert self.secret is not None
        timestamp = str(body.get("timestamp", ""))
        if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > HOUR_S:
            raise Refused(19021, "sign match fail or timestamp is not within one hour")
        key = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(str(body.get("sign", "")), expected):
            raise Refused(19021, "sign match fail or timestamp is not within one hour")
        try:
            _validate({"interactive": FeishuInteractive}, body.get("msg_type"), body)
        except ValueError as exc:
            raise Refused(9499, f"Bad Request: {exc}") from exc


def shown_text(got: Got) -> str:
    """The message text a group member reads, whatever the vendor's format."""
    body = got.body
    kind = body.get("msgtype") or body.get("msg_type")
    if kind == "text":
        return str(body["text"]["content"])
    if kind == "markdown":
        inner = body["markdown"]
        return str(inner.get("text") or inner.get("content"))
    if kind == "actionCard":
        card = body["actionCard"]
        return f"{card['text']}\n[{card['singleTitle']}]({card['singleURL']})"
    if kind == "interactive":
        card = body["card"]
        lines = [card["header"]["title"]["content"]]
        for element in card["elements"]:
            if element["tag"] == "div":
                lines.append(element["text"]["content"])
            elif element["tag"] == "action":
                lines += [f"[{b['text']['content']}]({b['url']})" for b in element["actions"]]
        return "\n".join(lines)
    raise ValueError(f"unknown message {kind!r}")


__all__ = [
    "DingtalkReceiver",
    "FeishuReceiver",
    "Got",
    "RobotReceiver",
    "WecomReceiver",
    "shown_text",
]
