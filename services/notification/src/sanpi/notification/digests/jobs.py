"""The digest job: every `digest_poll_s`, queues the digests whose slot has come (daily, 旬)."""

from __future__ import annotations

import asyncio

from sanpi.kit import Runtime
from sanpi.kit.waiting import sleep_or_stop
from sanpi.notification.digests import service
from sanpi.notification.digests.bulletin import BulletinSource
from sanpi.notification.settings import NotificationSettings


async def run_digest_worker(runtime: Runtime, stopping: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    source = BulletinSource(settings) if settings.milestone_url else None
    while not stopping.is_set():
        # A pass that fails (the database away) commits nothing of the digest it was making:
        # the kit restarts the job, and its next pass finds the same slot still due.
        await service.run_due(runtime.db, now=runtime.clock.now(), bulletins_from=source)
        await sleep_or_stop(stopping, settings.digest_poll_s)
