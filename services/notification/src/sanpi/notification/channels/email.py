"""The e-mail channel: one plain-text UTF-8 message per notification, sent with aiosmtplib over
plain SMTP, STARTTLS (port 587) or implicit TLS (port 465, what most Chinese providers offer)."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from sanpi.kit import FieldProblem
from sanpi.notification.channels import messages as refusals
from sanpi.notification.channels.base import (
    ChannelSettings,
    Context,
    Outgoing,
    Plugin,
    Target,
    only,
)
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Message


def compose(
    message: Message, *, sender: str, recipient: str, notification_id: str, language: str
) -> EmailMessage:
    """The MIME message: subject and body in the subscription's language, then its attachments
    (multipart/mixed; a Chinese file name is encoded per RFC 2231, filename*=utf-8''…, which
    Outlook, Foxmail and the web mailers of QQ and 163 decode)."""
    email = EmailMessage()
    # First: set_content drops every Content-* header set before it.
    email.set_content(message.text, charset="utf-8")
    for attachment in message.attachments:
        maintype, _sep, subtype = attachment.media_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = f"<{notification_id}@sanpi>"
    email["Content-Language"] = "zh-CN" if language == "zh" else "en"
    email["X-Sanpi-Notification-Id"] = notification_id
    return email


def tls_context(settings: ChannelSettings) -> ssl.SSLContext | None:
    """The server certificate is checked against the system's CAs, or the given CA file (a
    provider's own CA, or a test's self-signed certificate)."""
    if not (settings.smtp_tls or settings.smtp_starttls):
        return None
    return ssl.create_default_context(cafile=settings.smtp_ca_file or None)


@dataclass(frozen=True)
class Reply:
    code: int | None
    error: str | None
    duration_ms: int


async def send(email: EmailMessage, settings: ChannelSettings) -> AttemptResult:
    """Sends through the configured SMTP server; never raises (a failure is a failed attempt)."""
    return classify(await _send(email, settings))


async def _send(email: EmailMessage, settings: ChannelSettings) -> Reply:
    started = time.perf_counter()
    password = settings.smtp_password.get_secret_value()
    try:
        _errors, reply = await aiosmtplib.send(
            email,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password or None,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            tls_context=tls_context(settings),
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPResponseException as exc:
        return Reply(exc.code, f"SMTP {exc.code}: {exc.message}"[:500], _ms(started))
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Reply(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
    code = int(reply[:3]) if reply[:3].isdigit() else 250
    return Reply(code, None, _ms(started))


def classify(reply: Reply) -> AttemptResult:
    """Accepted: delivered. A 5xx refusal of the message (no such mailbox, refused content) is
    permanent: give up. Anything else (4xx, no connection) is retried."""
    if reply.error is None:
        return AttemptResult.ok(reply.code, reply.duration_ms)
    permanent = reply.code is not None and 500 <= reply.code < 600
    return AttemptResult(reply.code, reply.error, None, reply.duration_ms, give_up=permanent)


class EmailChannel(Plugin[EmailMessage, Reply]):
    name = "email"

    def validate(self, target: Target, policy: Egress) -> list[FieldProblem]:
        problems = only(target, keep=("email",), channel=self.name)
        if not target.email:
            problems.insert(0, FieldProblem("email", refusals.EMAIL_REQUIRED(channel=self.name)))
        return problems

    def render(self, outgoing: Outgoing, ctx: Context, *, now: dt.datetime) -> EmailMessage:
        settings = ctx.settings
        return compose(
            outgoing.message,
            sender=settings.smtp_from,
            recipient=outgoing.target,
            notification_id=outgoing.delivery_id,
            language=outgoing.language,
        )

    async def send(self, rendered: EmailMessage, ctx: Context) -> Reply:
        return await _send(rendered, ctx.settings)

    def classify(self, sent: Reply) -> AttemptResult:
        return classify(sent)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
