"""The three services in-process (Kafka off) wired by a test bus: every event in an outbox is handed
to the consumers of its topic, as the relay and Kafka would, until nothing moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from sanpi.events import encoded_headers
from sanpi.kit import FixedClock, OutboxMessage, Runtime
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.support.apps import serve_in_process
from tests.support.milestone import FakeRecord, at
from tests.support.notification import harness_settings

SERVICES = ("registry", "milestone", "notification")


@dataclass
class World:
    """An API client per service (no token unless a call sends one) and the runtimes behind."""

    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    delivered: set[tuple[str, str]] = field(default_factory=set)

    def runtime(self, service: str) -> Runtime:
        runtime: Runtime = self.apps[service].state.runtime
        return runtime

    async def pump(self) -> int:
        """Delivers every event not yet delivered to each service consuming its topic (the same
        outbox table serves all three on PostgreSQL: events are told apart by id)."""
        moved_total = 0
        while True:
            moved = 0
            for source in SERVICES:
                async with self.runtime(source).db.read() as session:
                    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
                    rows = (await session.exec(stmt)).all()
                for row in rows:
                    for target in SERVICES:
                        consumer = self.runtime(target).consumer
                        key = (row.event_id, target)
                        if consumer is None or row.topic not in consumer.topics:
                            continue
                        if key in self.delivered:
                            continue
                        self.delivered.add(key)
                        headers = encoded_headers(row.headers)
                        record = FakeRecord(row.value, row.key.encode(), row.topic, 0, 0, headers)
                        await consumer.process(record)
                        moved += 1
            moved_total += moved
            if moved == 0:
                return moved_total

    def openapi(self, service: str) -> dict[str, Any]:
        document: dict[str, Any] = self.apps[service].openapi()
        return document


@asynccontextmanager
async def three_services(
    tmp_path: Path, today: dt.date = dt.date(2023, 6, 15)
) -> AsyncIterator[World]:
    """The registry, milestone and notification apps on one fixed day (Asia/Shanghai)."""
    clock = FixedClock(at(today))
    apps = {
        "registry": registry_app(
            RegistrySettings(data_dir=tmp_path / "registry", kafka_enabled=False), clock
        ),
        "milestone": milestone_app(
            MilestoneSettings(
                data_dir=tmp_path / "milestone", kafka_enabled=False, evaluation_interval_s=0
            ),
            clock,
        ),
        "notification": notification_app(harness_settings(tmp_path / "notification"), clock),
    }
    for name in SERVICES:
        (tmp_path / name).mkdir(exist_ok=True)
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(serve_in_process(app))
            for name, app in apps.items()
        }
        yield World(apps, clients)
