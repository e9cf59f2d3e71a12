"""At start-up: seal the signing secrets (subscriptions', contacts' robot secrets) stored in plaintext, or under a key that is no longer the
newest (kit/sealing.py, rotation step 3)."""

from __future__ import annotations

import asyncio
import logging

from sanpi.kit import Runtime
from sanpi.notification.contacts import service as contacts
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions.service import reseal_secrets

log = logging.getLogger("sanpi.notification.secrets")


async def reseal_at_start(runtime: Runtime, _stopping: asyncio.Event) -> None:
    """One pass, then done: the API serves meanwhile (it opens plaintext and older keys too)."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    report = await reseal_secrets(runtime.db, settings.secret_box)
    contact_report = await contacts.reseal_secrets(runtime.db, settings.secret_box)
    report.resealed += contact_report.resealed
    report.unavailable += contact_report.unavailable
    if report.resealed:
        log.info("sealed %d stored secret(s) with the newest key", report.resealed)
    for problem in report.unavailable:
        log.error("a stored secret cannot be opened with the configured keys: %s", problem)
