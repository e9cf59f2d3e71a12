"""The timer worker: repeats and escalation steps of red alerts, overdue 督办 items, queue
gauges, stream pruning."""

from __future__ import annotations

import asyncio
import logging

from sanpi.kit import Runtime
from sanpi.kit.waiting import sleep_or_stop
from sanpi.notification.delivery import service as delivery
from sanpi.notification.escalation import service
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream import service as stream
from sanpi.notification.supervision import service as supervision

log = logging.getLogger("sanpi.notification.timers")


async def run_timer_worker(runtime: Runtime, stopping: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    while not stopping.is_set():
        now = runtime.clock.now()
        touched = await service.run_timers(runtime.db, now=now, settings=settings)
        if touched:
            log.info("alert timers: %d follow-ups handled", touched)
        overdue = await supervision.run_overdue(runtime.db, now=now, settings=settings)
        if overdue:
            log.info("督办: %d overdue items re-escalated", overdue)
        await stream.prune(runtime.db, now=now, retention_s=settings.stream_retention_s)
        await delivery.refresh_gauges(runtime.db)
        await sleep_or_stop(stopping, settings.timer_poll_s)
