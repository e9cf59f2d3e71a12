"""The milestone service in-process with a fixed clock: feed it registry events, read its outbox."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

from sanpi.events import EventData, ProjectRegistered, Stage, build_record
from sanpi.kit import CAMPAIGN_TZ, FixedClock, OutboxMessage, Outcome, Role, Runtime
from sanpi.kit.app import Worker
from sanpi.milestone.app import create_app
from sanpi.milestone.jobs import JOBS
from sanpi.milestone.settings import MilestoneSettings
from tests.support.apps import auth, serve_in_process


@dataclass
class FakeRecord:
    """What the consumer reads of a Kafka record."""

    value: bytes | None
    key: bytes | None
    topic: str = "sanpi.projects"
    partition: int = 0
    offset: int = 0
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A campaign day's instant (Asia/Shanghai) as aware UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CAMPAIGN_TZ).astimezone(dt.UTC)


def registration(project_id: str = "p1", **fields: Any) -> ProjectRegistered:
    """The registry's registration of a signed project, with `fields` replaced or added."""
    data = {
        "project_id": project_id,
        "version": 1,
        "name": "雄韬氢能产业园",
        "park": "梧桐",
        "total_investment": 150_000,
        "stage": Stage.SIGNED,
        "signed_date": dt.date(2023, 1, 28),
        "planned_start_date": dt.date(2023, 3, 1),
        "planned_production_date": dt.date(2024, 6, 30),
        "chain_tag": "HYDROGEN_STORAGE",
        "category": "STRATEGIC_EMERGING",
        "responsible_person": "张三",
        "responsible_unit": "梧桐园区运营中心",
        "sponsor_leader": "李四",
        **fields,
    }
    return ProjectRegistered.model_validate(data)


@dataclass
class Milestones:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: FixedClock
    records: list[FakeRecord] = field(default_factory=list)

    async def feed(self, data: EventData) -> Outcome:
        """Delivers a registry event to the consumer, as Kafka would (and keeps the record)."""
        _event, record = build_record(data, source="/sanpi/registry")
        fake = FakeRecord(record.value, record.key, offset=len(self.records))
        self.records.append(fake)
        return await self.replay(fake)

    async def replay(self, record: FakeRecord) -> Outcome:
        assert self.runtime.consumer is not None
        return await self.runtime.consumer.process(record)

    async def register(self, project_id: str = "p1", **fields: Any) -> str:
        assert await self.feed(registration(project_id, **fields)) is Outcome.PROCESSED
        return project_id

    async def events(self, prefix: str = "") -> list[dict[str, Any]]:
        """CloudEvents waiting in the outbox (Kafka is off), oldest first."""
        async with self.runtime.db.read() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        found = [json.loads(r.value) for r in rows]
        return [e for e in found if e["type"].startswith(prefix)]

    async def alert_events(self, key: str) -> list[tuple[str, str]]:
        """(kind of alert event, severity) for one key, oldest first."""
        return [
            (e["type"].split(".")[2], e["data"]["severity"])
            for e in await self.events("sanpi.alert.")
            if e["data"]["alert_key"] == key
        ]

    async def evaluate(self, day: dt.date | str, **params: Any) -> dict[str, Any]:
        """An evaluation as of `day` that writes and notifies, as the tests travel in time: the
        day is pinned for the pass and unpinned after it (unless the test asks for `pin` itself),
        so later event-driven passes judge as of the clock's today again."""
        pin = "pin" not in params
        response = await self.client.post(
            "/v1/admin/evaluate", params={"as_of": str(day), "pin": "true", **params}
        )
        assert response.status_code == 200, response.text
        if pin:
            unpinned = await self.client.delete("/v1/admin/evaluate/pin")
            assert unpinned.status_code == 204, unpinned.text
        body: dict[str, Any] = response.json()
        return body

    async def preview(self, day: dt.date | str) -> dict[str, Any]:
        """What an evaluation as of `day` would find, nothing written."""
        response = await self.client.post("/v1/admin/evaluate", params={"as_of": str(day)})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"/v1/projects/{path}", json=body, **kwargs)


@asynccontextmanager
async def milestone_service(
    tmp_path: Path,
    today: dt.date = dt.date(2023, 6, 15),
    *,
    jobs: Sequence[Worker] = JOBS,
    **settings: Any,
) -> AsyncIterator[Milestones]:
    """The service in-process: Kafka off, the schedule off unless asked, the clock on `today`;
    `jobs=()` runs none of its background work (the sweep, the gauges' refresh)."""
    clock = FixedClock(at(today))
    options: dict[str, Any] = {"evaluation_interval_s": 0, **settings}
    app = create_app(
        MilestoneSettings(data_dir=tmp_path, kafka_enabled=False, **options), clock, jobs=jobs
    )
    async with serve_in_process(app) as client:
        client.headers.update(auth(Role.ADMIN, subject="admin-1"))
        yield Milestones(client, app.state.runtime, clock)


def operator(*parks: str) -> dict[str, str]:
    return auth(Role.OPERATOR, subject="op-1", parks=parks)
