"""The milestone service's background work in the rules area: scheduled evaluation, the sweep of
projects left due, and the alert gauges. Each job is made for the areas the rules judge
(milestone/jobs.py hands them over)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sanpi.kit import Runtime, utcnow
from sanpi.kit.app import Worker
from sanpi.kit.consumer import catching_up
from sanpi.kit.waiting import sleep_or_stop
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules import workers
from sanpi.milestone.rules.areas import Areas
from sanpi.milestone.settings import MilestoneSettings

log = logging.getLogger("sanpi.milestone.rules")


async def evaluation_workers(runtime: Runtime, stopping: asyncio.Event) -> None:
    """Starts the evaluation workers (`evaluation_workers`) with the service, so the first full
    pass does not wait for them, and stops them with it."""
    settings = runtime.settings
    assert isinstance(settings, MilestoneSettings)
    pool = workers.pool_for(settings)
    if pool is None:
        return
    try:
        await pool.warm()
        log.info("%d evaluation workers ready", pool.size)
        await stopping.wait()
    finally:
        # Blocking: it waits for a chunk a worker is judging (a second at most), and idle
        # workers exit at once.
        workers.close_pools()


def scheduled_evaluation(areas: Areas) -> Worker:
    async def scheduled_evaluation(runtime: Runtime, stopping: asyncio.Event) -> None:
        """Evaluates every rule for every project every `evaluation_interval_s` (0: never)."""
        settings = runtime.settings
        assert isinstance(settings, MilestoneSettings)
        if settings.evaluation_interval_s <= 0:
            return
        while not stopping.is_set():
            async with runtime.db.transaction() as uow:
                as_of = await rules.evaluation_date(uow.session, runtime.clock)
                result = await rules.evaluate(uow, areas, settings=settings, as_of=as_of)
            log.info(
                "evaluation %s as of %s: %d projects, raised %d, updated %d, resolved %d",
                result.evaluation_id,
                as_of,
                result.projects,
                len(result.raised),
                len(result.updated),
                len(result.resolved),
            )
            await sleep_or_stop(stopping, settings.evaluation_interval_s)

    return scheduled_evaluation


def evaluate_left(areas: Areas) -> Worker:
    async def evaluate_left(runtime: Runtime, stopping: asyncio.Event) -> None:
        """Evaluates changed projects whose evaluation after commit did not run: the marks older
        than the process at start-up, then those older than `evaluation_sweep_s` every
        `evaluation_sweep_s`."""
        settings = runtime.settings
        assert isinstance(settings, MilestoneSettings)
        if not settings.evaluate_on_events:
            return
        # At start-up, the marks a stopped process left: a change committed since then waits
        # for its own pass (read here too, its project would be evaluated twice).
        before = utcnow()
        while not stopping.is_set():
            try:
                left = await sweep(runtime, areas, settings, before=before)
                if left:
                    log.info("evaluated %d projects left due", left)
            except Exception:  # the marks stay; the next round retries
                log.exception("evaluation of projects left due failed")
            await sleep_or_stop(stopping, settings.evaluation_sweep_s)
            before = utcnow() - dt.timedelta(seconds=settings.evaluation_sweep_s)

    return evaluate_left


async def sweep(
    runtime: Runtime, areas: Areas, settings: MilestoneSettings, *, before: dt.datetime | None
) -> int:
    """One round of the sweep: the marks written before `before` (all with None), or none while
    this process's consumer catches up: it evaluates every mark once it has caught up, and a
    replay's projects swept meanwhile were marked again by their later events (a 20,000-project
    replay evaluated ~3,900 projects twice)."""
    if before is not None and catching_up(runtime.db):
        return 0
    return await rules.evaluate_left(runtime.db, areas, settings, runtime.clock, before=before)


def refresh_metrics(areas: Areas) -> Worker:
    async def refresh_metrics(runtime: Runtime, stopping: asyncio.Event) -> None:
        """Recounts the alert and traffic-light gauges every `metrics_refresh_s`."""
        settings = runtime.settings
        assert isinstance(settings, MilestoneSettings)
        while not stopping.is_set():
            try:
                async with runtime.db.read() as session:
                    await rules.refresh_gauges(session, areas, share=settings.traffic_light_share)
            except Exception:  # keep the last values; the next round retries
                log.exception("alert metrics refresh failed")
            await sleep_or_stop(stopping, settings.metrics_refresh_s)

    return refresh_metrics
