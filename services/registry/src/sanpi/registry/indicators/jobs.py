"""The registry's background work in the indicators area: the campaign gauges, recomputed."""

from __future__ import annotations

import asyncio
import logging

from sanpi.kit import Runtime, today
from sanpi.kit.waiting import sleep_or_stop
from sanpi.registry.listings import repository as listings
from sanpi.registry.metrics import CampaignSnapshot, campaign_snapshot, publish
from sanpi.registry.projects import repository as projects
from sanpi.registry.projects.repository import ProjectFilter
from sanpi.registry.projects.schemas import ProjectSort
from sanpi.registry.settings import RegistrySettings
from sanpi.registry.targets import repository as targets

log = logging.getLogger("sanpi.registry.metrics")


async def refresh(runtime: Runtime) -> CampaignSnapshot:
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    async with runtime.db.read() as session:
        rows = await projects.all_matching(
            session, filters=ProjectFilter(), sort=ProjectSort.CREATED
        )
        listed = await listings.all_listings(session)
        goals = await targets.find(session, year=None, scope=None)
    snap = campaign_snapshot(
        rows, listed, goals, day=today(runtime.clock), district=settings.district
    )
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
