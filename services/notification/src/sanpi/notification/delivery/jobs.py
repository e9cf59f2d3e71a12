"""The delivery worker: claims due deliveries, sends each through its channel's plugin (one
interface for every channel, channels/base.py), records results."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter

from sanpi.kit import Runtime, tracing
from sanpi.kit.waiting import wait_any
from sanpi.notification.channels import http, plugins
from sanpi.notification.channels.base import Context
from sanpi.notification.channels.ledger import Ledger
from sanpi.notification.channels.result import AttemptResult, Outcome
from sanpi.notification.delivery import service
from sanpi.notification.delivery.models import DeliveryStatus
from sanpi.notification.delivery.service import DELIVERIES_PENDING, Claimed
from sanpi.notification.settings import NotificationSettings

log = logging.getLogger("sanpi.notification.delivery")

CLAIM_BATCH = 100


async def send(claimed: Claimed, ctx: Context) -> AttemptResult:
    """One attempt through the delivery's channel plugin; never raises."""
    try:
        plugin = plugins.of(claimed.channel)
    except KeyError:
        return AttemptResult(None, f"no channel {claimed.channel!r}", give_up=True)
    try:
        return await plugin.deliver(claimed, ctx)
    except Exception as exc:
        # A plugin's bug fails this attempt (retried, logged), not the batch of the others.
        log.exception("delivery %s: the %s channel failed", claimed.delivery_id, claimed.channel)
        return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500])


async def run_delivery_worker(runtime: Runtime, stopping: asyncio.Event) -> None:
    """`delivery_lanes` claim-send-record loops sharing one HTTP client and one concurrency
    gate: a loop waits on its claim and its record (each a transaction) as much as on its POSTs,
    so a second loop sends while the first writes. They take turns as replicas' workers do
    (a claim's lease, SKIP LOCKED on PostgreSQL), so a project's notifications still leave one
    at a time, in order."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    gate = asyncio.Semaphore(settings.delivery_concurrency)
    async with http.client(
        timeout_s=settings.webhook_timeout_s,
        max_connections=settings.delivery_concurrency * 2,
        policy=settings.egress,
    ) as client:
        ctx = Context(client, settings, ledger=Ledger(runtime.db))
        await asyncio.gather(
            *(_lane(runtime, settings, ctx, gate, stopping) for _ in range(settings.delivery_lanes))
        )


async def _lane(
    runtime: Runtime,
    settings: NotificationSettings,
    ctx: Context,
    gate: asyncio.Semaphore,
    stopping: asyncio.Event,
) -> None:
    wake = runtime.db.commit_signal(DELIVERIES_PENDING)
    rng = random.Random()  # noqa: S311 - jitter, not cryptography

    async def attempt(claimed: Claimed) -> tuple[Claimed, AttemptResult]:
        async with gate:
            if tracing.ENABLED:
                with tracing.delivering(
                    claimed.body,
                    channel=claimed.channel,
                    delivery_id=claimed.delivery_id,
                    attempt=claimed.attempt,
                ):
                    return claimed, await send(claimed, ctx)
            return claimed, await send(claimed, ctx)

    while not stopping.is_set():
        wake.clear()
        batch = await service.claim_due(
            runtime.db,
            now=runtime.clock.now(),
            limit=CLAIM_BATCH,
            lease_s=settings.delivery_lease_s,
            box=settings.secret_box,
        )
        failed = False
        followed = False  # an ordered delivery is done: the next of its key may be due
        if batch.claimed:
            done = await asyncio.gather(*(attempt(c) for c in batch.claimed))
            statuses = await service.record_results(
                runtime.db, done, settings=settings, now=runtime.clock.now(), rng=rng
            )
            outcomes: Counter[str] = Counter()
            for (sent, result), status in zip(done, statuses, strict=True):
                failed = failed or result.outcome is Outcome.RETRY
                followed = followed or (sent.ordered and status != DeliveryStatus.PENDING)
                outcomes[status] += 1
                # What went wrong stays at INFO, one line each; a delivered one is in the
                # delivery log (GET /v1/deliveries), and its INFO line cost ~0.1 CPU-ms
                # (2.7 of the notification's 95 CPU-s in e2e-batch, profiled).
                log.log(
                    logging.DEBUG if status == DeliveryStatus.DELIVERED else logging.INFO,
                    "delivery %s (%s) attempt %d: %s -> %s",
                    sent.delivery_id,
                    sent.channel,
                    sent.attempt,
                    result.status_code or result.error,
                    status,
                )
            log.info(
                "deliveries: %d attempted, %s",
                len(done),
                ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())),
            )
        # Claim again at once only when more may be due: a full batch, a retry whose
        # backoff may already be over, or the next of an order key. Otherwise a commit that
        # queues deliveries wakes us (it sets `wake`, cleared before the claim); the empty claim
        # this saves was one transaction per batch (0.5 of ~20 statements per event, profiled).
        if batch.full or failed or followed:
            continue
        await wait_any(wake, stopping, timeout=0.5)
