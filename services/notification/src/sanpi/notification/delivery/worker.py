"""The delivery worker: claims due deliveries, sends them through their channel, records results."""

from __future__ import annotations

import asyncio
import logging
import random

import httpx

from sanpi.kit import Runtime, utcnow
from sanpi.kit.waiting import wait_any
from sanpi.notification.channels import webhook
from sanpi.notification.channels.targets import TargetRefused, check_target
from sanpi.notification.delivery import service
from sanpi.notification.delivery.service import DELIVERIES_PENDING, Claimed
from sanpi.notification.settings import NotificationSettings

log = logging.getLogger("sanpi.notification.delivery")

CLAIM_BATCH = 100


async def run_delivery_worker(runtime: Runtime, stopping: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    wake = runtime.db.commit_signal(DELIVERIES_PENDING)
    rng = random.Random()  # noqa: S311 - jitter, not cryptography
    gate = asyncio.Semaphore(settings.delivery_concurrency)
    limits = httpx.Limits(max_connections=settings.delivery_concurrency * 2)
    async with httpx.AsyncClient(
        timeout=settings.webhook_timeout_s, follow_redirects=False, limits=limits
    ) as client:

        async def attempt(claimed: Claimed) -> None:
            async with gate:
                try:
                    await check_target(claimed.url, allow_private=settings.allow_private_targets)
                except TargetRefused as exc:
                    result = webhook.AttemptResult(None, f"target refused: {exc}", None, 0)
                else:
                    result = await webhook.post(
                        client,
                        url=claimed.url,
                        secret=claimed.secret,
                        msg_id=claimed.delivery_id,
                        body=claimed.payload.encode(),
                    )
                status = await service.record_result(
                    runtime.db, claimed, result, settings=settings, now=utcnow(), rng=rng
                )
                log.info(
                    "delivery %s attempt %d: %s -> %s",
                    claimed.delivery_id,
                    claimed.attempt,
                    result.status_code or result.error,
                    status,
                )

        while not stopping.is_set():
            wake.clear()
            claimed = await service.claim_due(
                runtime.db, now=utcnow(), limit=CLAIM_BATCH, lease_s=settings.delivery_lease_s
            )
            if claimed:
                await asyncio.gather(*(attempt(c) for c in claimed))
                continue
            await wait_any(wake, stopping, timeout=0.5)
