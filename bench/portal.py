"""Portal page times at province scale (docs/domain.md#province-benchmark: 20,000 projects): the
server time of 我的项目 and 红黄榜 (and the open alert list) with the services behind it.

The registry (projects imported in bulk), the milestone service (20,000 tracked projects, two
years of 旬/月 reports seeded into its tables, then one rule evaluation pinned to the data set's
day, which raises the alerts) and the notification service (the alert states, fed the milestone's
alert events) run in-process, as in the scale bench; the portal runs in-process in front of them
and reaches them through the SDK as its users, in worker threads, as it does when served. A page's
time is from the request entering the portal to its last byte: its own work, its calls to the
services, their queries. No network hop: the figures are server time.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from bench import scale
from bench.common import BenchResult, measured, percentile
from sanpi.client.demo.generator import DemoDataset, province, province_parks
from sanpi.client.demo.loader import province_sheet
from sanpi.events import KafkaRecord
from sanpi.kit import Role, utcnow
from sanpi.kit.outbox import OutboxMessage
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.notification.settings import NotificationSettings
from sanpi.portal.accounts import service as accounts
from sanpi.portal.app import create_app as portal_app
from sanpi.portal.settings import PortalSettings
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.support.notification import as_consumed
from tests.support.portal import HOSTS, InProcessServices, csrf_of

PASSWORD = "bench password"  # noqa: S105 - an in-process bench's accounts
TARGET_MS = 300.0


async def load_registry(client: httpx.AsyncClient, data: DemoDataset) -> None:
    for period in data.periods:
        answer = await client.post(
            "/v1/periods",
            json={"number": period.number, "event_date": period.event_date.isoformat()},
        )
        answer.raise_for_status()
    for start in range(0, len(data.projects), scale.IMPORT_CHUNK):
        sheet = province_sheet(data, data.projects[start : start + scale.IMPORT_CHUNK])
        answer = await client.post("/v1/projects/import", files={"file": ("p.csv", sheet)})
        if answer.status_code != 201:
            raise RuntimeError(f"import failed: {answer.status_code} {answer.text[:300]}")


async def alerts_to_notification(milestone: FastAPI, notification: FastAPI) -> int:
    """The milestone's alert events (its outbox: Kafka is off) applied by the notification
    service's consumer, as the topic would bring them."""
    async with scale.runtime_of(milestone).db.read() as session:
        stmt = (
            select(OutboxMessage)
            .where(col(OutboxMessage.topic) == "sanpi.alerts")
            .order_by(col(OutboxMessage.id))
        )
        rows = list((await session.exec(stmt)).all())
    consumer = scale.runtime_of(notification).consumer
    assert consumer is not None
    for row in rows:
        record = KafkaRecord(
            topic=row.topic,
            key=row.key.encode(),
            value=row.value,
            headers=[(k, v.encode()) for k, v in row.headers.items()],
        )
        await consumer.process(as_consumed(record))
    return len(rows)


async def timed(client: httpx.AsyncClient, path: str, runs: int) -> list[float]:
    warm = await client.get(path)  # warm-up: statement caches, the reference data
    if warm.status_code != 200:
        raise RuntimeError(f"GET {path}: {warm.status_code} {warm.text[:300]}")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = await client.get(path)
        timings.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code}")
    return timings


async def log_in(client: httpx.AsyncClient, username: str) -> None:
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login {username}: {answer.status_code}")


async def run(
    *, run_dir: Path, new_database: Any, smoke: bool, projects: int | None = None
) -> BenchResult:
    sizes = scale.SMOKE if smoke else scale.FULL
    if projects is not None:
        sizes = scale.Sizes(projects, sizes.runs, sizes.history_months)
    data = province(sizes.projects)
    result = BenchResult("portal")
    result.details["projects"] = sizes.projects
    directory = run_dir / "portal-bench"
    registry = registry_app(
        RegistrySettings(
            data_dir=directory,
            database_url=new_database("portal_registry"),
            kafka_enabled=False,
            parks=province_parks(),
        )
    )
    milestone = milestone_app(
        MilestoneSettings(
            data_dir=directory,
            database_url=new_database("portal_milestone"),
            kafka_enabled=False,
            evaluation_interval_s=0,
            metrics_refresh_s=86_400,
        )
    )
    notification = notification_app(
        NotificationSettings(
            data_dir=directory,
            database_url=new_database("portal_notification"),
            kafka_enabled=False,
        )
    )
    async with (
        scale.in_process(registry) as registry_client,
        scale.in_process(milestone) as milestone_client,
        scale.in_process(notification),
    ):
        started = time.perf_counter()
        await load_registry(registry_client, data)
        counts = await scale.seed(
            scale.runtime_of(milestone), scale.Seeder(data, sizes.history_months)
        )
        evaluated = await milestone_client.post(
            "/v1/admin/evaluate", params={"as_of": data.as_of.isoformat(), "pin": "true"}
        )
        evaluated.raise_for_status()
        fed = await alerts_to_notification(milestone, notification)
        print(
            f"  portal: {sizes.projects} projects, {counts['progress_report']} reports, "
            f"{len(evaluated.json()['raised'])} alerts ({fed} alert events) ready in "
            f"{time.perf_counter() - started:.0f}s",
            flush=True,
        )
        transport = InProcessServices(
            asyncio.get_running_loop(),
            {"registry": registry, "milestone": milestone, "notification": notification},
        )
        settings = PortalSettings(
            data_dir=directory,
            database_url=new_database("portal_portal"),
            jwt_secret=DEV_JWT_SECRET,
            registry_url=HOSTS["registry"],
            milestone_url=HOSTS["milestone"],
            notification_url=HOSTS["notification"],
            login_burst=100,
        )
        app = portal_app(settings, transport=transport)
        parks = province_parks()
        async with app.router.lifespan_context(app):
            async with scale.runtime_of(app).db.transaction() as uow:
                for username, role, own in (
                    ("official", Role.ADMIN, []),
                    ("operator", Role.OPERATOR, parks[:1]),
                ):
                    await accounts.create(
                        uow,
                        username=username,
                        display_name=username,
                        role=role,
                        parks=own,
                        password=PASSWORD,
                        by="bench",
                        now=utcnow(),
                    )
            cases = {
                "我的项目 (all parks)": ("official", "/projects"),
                "我的项目 filtered red": ("official", "/projects?colour=red"),
                "我的项目 operator (one park)": ("operator", "/projects"),
                "红黄榜 (park ranking)": ("official", "/alerts/ranking"),
                "预警 open list": ("official", "/alerts"),
            }
            runs = max(20, sizes.runs) if not smoke else sizes.runs
            for username in ("official", "operator"):
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://portal.bench",
                    follow_redirects=False,
                    timeout=600,
                ) as client:
                    await log_in(client, username)
                    with measured():
                        for name, (who, path) in cases.items():
                            if who != username:
                                continue
                            timings = await timed(client, path, runs)
                            p95 = percentile(timings, 95) * 1000
                            result.add(f"{name} p50", percentile(timings, 50) * 1000, "ms", path)
                            result.add(
                                f"{name} p95",
                                p95,
                                "ms",
                                f"target ≤ {TARGET_MS:.0f}"
                                + ("" if p95 <= TARGET_MS else ": MISSED"),
                            )
    return result
