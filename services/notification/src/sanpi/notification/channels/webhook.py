"""The webhook channel: Standard Webhooks (`whsec_` secrets, HMAC-SHA256 signatures), one signed
POST per attempt carrying the CloudEvent (or sanpi's envelope for a digest)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import aiohttp

from sanpi.kit import FieldProblem
from sanpi.notification.channels import http
from sanpi.notification.channels import messages as refusals
from sanpi.notification.channels.base import Context, Outgoing, Plugin, Target, only
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.http import client, parse_retry_after
from sanpi.notification.channels.result import AttemptResult

__all__ = ["WebhookChannel", "client", "new_secret", "parse_retry_after", "post", "sign"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 24 random bytes (Standard Webhooks format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per valid secret, space-separated: during a rotation a receiver holding
    either the old or the new secret finds a signature it can verify."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def request(
    *, url: str, secrets: list[str], msg_id: str, body: bytes, content_type: str
) -> Request:
    """The signed POST (pure but for the wall clock)."""
    # Wall time, not the injectable clock: receivers compare it with their own clock (5 min
    # tolerance in the reference verifier).
    timestamp = int(time.time())
    headers = {
        "content-type": content_type,
        "user-agent": "sanpi-notification/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }
    return Request(url, body, headers)


def classify(answer: http.Answer) -> AttemptResult:
    """2xx delivered; 410 gone (give up, disable); anything else retried."""
    if answer.status is None:
        return AttemptResult(None, answer.error, None, answer.duration_ms)
    if 200 <= answer.status < 300:
        return AttemptResult.ok(answer.status, answer.duration_ms)
    return AttemptResult(
        answer.status,
        f"HTTP {answer.status}",
        parse_retry_after(answer.headers.get("retry-after")),
        answer.duration_ms,
        gone=answer.status == 410,
    )


async def post(
    client: aiohttp.ClientSession,
    *,
    url: str,
    secrets: list[str],
    msg_id: str,
    body: bytes,
    content_type: str = "application/json",
) -> AttemptResult:
    """POSTs one signed message; never raises for network trouble, which is a failed attempt.
    An address the SSRF guard refuses is a failed attempt too, its error saying so."""
    signed = request(url=url, secrets=secrets, msg_id=msg_id, body=body, content_type=content_type)
    return classify(await http.post(client, signed.url, body=signed.body, headers=signed.headers))


class WebhookChannel(Plugin[Request | None, http.Answer | None]):
    name = "webhook"

    def validate(self, target: Target, policy: Egress) -> list[FieldProblem]:
        problems = only(target, keep=("url",), channel=self.name)
        if not target.url:
            problems.insert(0, FieldProblem("url", refusals.URL_REQUIRED(channel=self.name)))
        return problems

    def render(self, outgoing: Outgoing, ctx: Context, *, now: dt.datetime) -> Request | None:
        if not outgoing.secrets:
            return None
        return request(
            url=outgoing.target,
            secrets=outgoing.secrets,
            msg_id=outgoing.delivery_id,
            body=outgoing.body,
            content_type=outgoing.content_type,
        )

    async def send(self, rendered: Request | None, ctx: Context) -> http.Answer | None:
        if rendered is None:
            return None
        # The client's connector refuses addresses the SSRF guard does not allow (egress.py).
        return await http.post(
            ctx.client, rendered.url, body=rendered.body, headers=rendered.headers
        )

    def classify(self, sent: http.Answer | None) -> AttemptResult:
        if sent is None:
            # Never unsigned: the secret could not be opened (logged with the key it needs).
            return AttemptResult(
                None, "the signing secret cannot be opened with SANPI_NOTIFICATION_SECRET_KEYS"
            )
        return classify(sent)
