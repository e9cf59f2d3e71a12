"""The rebuild bench: `sanpi-admin rebuild`'s bulk path over the registry's events of a province.

The registry's events of N projects (as the scale bench's replay makes them: a real registry's
import) go to a fresh topic; a fresh milestone database tracks every project under a wrong name
(so that the rebuild changes, and marks due, every one) and a fresh notification database is
empty; then each service's projections are rebuilt from the topic, timed (wall and this
process's CPU seconds), as `sanpi-admin rebuild milestone` and `… notification` run them.

    .venv/bin/python -m bench --only rebuild [--db postgres] [--projects 20000]
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from sqlalchemy import insert

from bench.common import SQLITE_SYNCHRONOUS, BenchResult, delete_topic
from bench.replay import prepare
from bench.scale import produce
from sanpi.events import ProjectRegistered, Topic, from_value, parse_data
from sanpi.kit.db import Database
from sanpi.kit.migrations import migrate
from sanpi.kit.rebuild import Projection, rebuild
from sanpi.milestone import rebuild as milestone
from sanpi.milestone.migrations import MIGRATIONS as MILESTONE
from sanpi.notification import rebuild as notification
from sanpi.notification.migrations import MIGRATIONS as NOTIFICATION


async def run(result: BenchResult, projects: int, bootstrap: str, urls: dict[str, str]) -> None:
    rows = await prepare(projects)
    topic = f"bench.rebuild.{uuid.uuid4().hex[:8]}"
    await produce(bootstrap, topic, rows)
    print(f"  rebuild: {len(rows)} registry events of {projects} projects on {topic}")
    await migrate(urls["milestone"], MILESTONE)
    await migrate(urls["notification"], NOTIFICATION)
    await _track(urls["milestone"], [row.value for row in rows])
    try:
        for service, projections in (
            ("milestone", milestone.projections()),
            ("notification", notification.projections()),
        ):
            await _timed(result, service, projections, urls[service], bootstrap, topic)
    finally:
        await delete_topic(bootstrap, topic)


async def _timed(
    result: BenchResult,
    service: str,
    projections: list[Projection],
    url: str,
    bootstrap: str,
    topic: str,
) -> None:
    db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        done = await rebuild(
            db,
            projections,
            bootstrap=bootstrap,
            group=f"bench-rebuild-{service}-{uuid.uuid4().hex[:6]}",
            topics={Topic.PROJECTS.value: topic},
            report=lambda p: print(f"  {service}: {p.line()}"),
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await db.dispose()
    events = done.progress.total
    rows = ", ".join(f"{name} {count:,} rows" for name, count in done.rows.items())
    print(f"  rebuild {service}: {events:,} events in {wall:.1f} s (CPU {cpu:.1f} s), {rows}")
    result.add(f"rebuild_{service}", events / wall, "events/s", f"{events} events; {rows}")
    result.add(f"rebuild_{service}_cpu", 1000 * cpu / max(events, 1), "CPU-s per 1,000 events")
    result.add(f"rebuild_{service}_wall", wall, "s")


async def _track(url: str, values: list[bytes]) -> None:
    """Every registered project tracked, under a name the rebuild must correct."""
    tracked: list[dict[str, Any]] = []
    for value in values:
        event = from_value(value)
        data = parse_data(event)
        if isinstance(data, ProjectRegistered):
            tracked.append(
                {
                    "project_id": data.project_id,
                    "name": "待重建",
                    "park": data.park,
                    "total_investment": data.total_investment,
                    "periods": [],
                    "registered_on": dt.date(2024, 1, 1),
                    "stage": data.stage,
                    "stage_since": dt.date(2024, 1, 1),
                    "registry_version": 0,
                    "stage_version": 0,
                    "updated_at": dt.datetime.now(dt.UTC),
                }
            )
    from sanpi.milestone.rebuild import TRACKED

    db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
    try:
        async with db.engine.begin() as conn:
            for start in range(0, len(tracked), 500):
                await conn.execute(insert(TRACKED).values(tracked[start : start + 500]))
    finally:
        await db.dispose()
