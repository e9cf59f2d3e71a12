"""The registry's background work in the indicators area: the campaign gauges, recomputed."""

from __future__ import annotations

import asyncio
import logging

from sanpi.kit import Runtime, today
from sanpi.kit.waiting import sleep_or_stop
from sanpi.registry.indicators import repository as ledger
from sanpi.registry.metrics import CampaignSnapshot, campaign_snapshot, publish
from sanpi.registry.settings import RegistrySettings
from sanpi.registry.targets import repository as targets

log = logging.getLogger("sanpi.registry.metrics")


async def refresh(runtime: Runtime) -> CampaignSnapshot:
    """The gauges from a few aggregate statements (at 20,000 projects, a pass over ORM rows held
    the event loop ~2 s every refresh, and a request arriving meanwhile waited for it)."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    day = today(runtime.clock)
    async with runtime.db.read() as session:
        counts = await ledger.campaign_counts(session)
        goals = await targets.find(session, year=None, scope=None)
        by_year = {
            year: await ledger.portfolios_by_park(session, as_of=day, year=year)
            for year in sorted({day.year} | {goal.year for goal in goals})
        }
    snap = campaign_snapshot(counts, by_year, goals, day=day, district=settings.district)
    publish(snap)
    return snap


async def run_metrics_refresher(runtime: Runtime, stopping: asyncio.Event) -> None:
    """Recomputes the campaign gauges every `metrics_refresh_s` (a full read of the ledger)."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    while not stopping.is_set():
        try:
            await refresh(runtime)
        except Exception:  # a failed refresh keeps the previous values; the next one retries
            log.exception("campaign metrics refresh failed")
        await sleep_or_stop(stopping, settings.metrics_refresh_s)
