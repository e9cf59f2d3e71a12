"""The 旬's bulletin (通报) a 旬 digest carries: fetched once per 旬 from the milestone service's
API (never its database) as a viewer with a token of a minute, kept for the e-mails that attach it;
robot messages link to it in the portal."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from sanpi.kit.peers import get_from_service
from sanpi.notification.settings import NotificationSettings

log = logging.getLogger("sanpi.notification.digests")

SUBJECT = "sanpi-notification/digest"
PDF = "application/pdf"


def filename(period: str) -> str:
    """The attachment's name: 通报-2023-03-X2.pdf."""
    return f"通报-{period}.pdf"


def link(settings: NotificationSettings, period: str) -> str | None:
    """Where a reader opens the bulletin: the portal's page (it asks the milestone service as
    the logged-in user); None without a portal."""
    portal = settings.portal_url.rstrip("/")
    return f"{portal}/bulletins/{period}.pdf" if portal else None


class Unavailable(Exception):
    """The bulletin could not be had; `reason` says why, in Chinese, for the digest's note."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BulletinSource:
    """The milestone service's bulletin API; `transport` lets a test answer in-process."""

    settings: NotificationSettings
    transport: httpx.AsyncBaseTransport | None = None

    async def pdf(self, period: str) -> bytes:
        """GET /v1/bulletins/{period}?format=pdf; Unavailable when it cannot be had."""
        settings = self.settings
        try:
            response = await get_from_service(
                settings.milestone_url,
                f"/v1/bulletins/{period}",
                params={"format": "pdf"},
                secret=settings.jwt_secret.get_secret_value(),
                subject=SUBJECT,
                service="milestone",
                max_ttl=settings.jwt_max_ttl,
                timeout=settings.bulletin_timeout_s,
                transport=self.transport,
            )
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # ValueError: a milestone_url httpx cannot use; the digest must go out all the same.
            raise Unavailable(
                f"进度服务（{settings.milestone_url}）无法连接：{type(exc).__name__}"
            ) from exc
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status_code != 200 or media != PDF or not response.content.startswith(b"%PDF"):
            raise Unavailable(f"进度服务答复 {response.status_code}（{media or '无类型'}）")
        return response.content
