"""The e-mail channel: one plain-text UTF-8 message per notification, sent with aiosmtplib."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Message
from sanpi.notification.settings import NotificationSettings


def compose(
    message: Message, *, sender: str, recipient: str, notification_id: str, language: str
) -> EmailMessage:
    """The MIME message: subject and body in the subscription's language."""
    email = EmailMessage()
    # First: set_content drops every Content-* header set before it.
    email.set_content(message.text, charset="utf-8")
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = f"<{notification_id}@sanpi>"
    email["Content-Language"] = "zh-CN" if language == "zh" else "en"
    email["X-Sanpi-Notification-Id"] = notification_id
    return email


async def send(email: EmailMessage, settings: NotificationSettings) -> AttemptResult:
    """Sends through the configured SMTP server; never raises (a failure is a failed attempt)."""
    started = time.perf_counter()
    password = settings.smtp_password.get_secret_value()
    try:
        _errors, reply = await aiosmtplib.send(
            email,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPResponseException as exc:
        return AttemptResult(exc.code, f"SMTP {exc.code}: {exc.message}"[:500], None, _ms(started))
    except (aiosmtplib.SMTPException, OSError) as exc:
        return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500], None, _ms(started))
    code = int(reply[:3]) if reply[:3].isdigit() else 250
    return AttemptResult.ok(code, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
