"""The registry in-process for unit tests: a client, its outbox events, and sample projects."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

from sanpi.events import (
    ProgressReported,
    ProjectStageChanged,
    ReportPeriodKind,
    Stage,
    build_record,
)
from sanpi.kit import FixedClock, OutboxMessage, Role
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings
from tests.support.apps import auth, serve_in_process

# 2023-06-30 12:00 in Shanghai: half of 2023 is behind us (序时进度 49.6 %).
MID_2023 = dt.datetime(2023, 6, 30, 4, 0, tzinfo=dt.UTC)

FULL_PROJECT: dict[str, Any] = {
    "name": "艾格莱德汽车传感及控制器研发生产基地",
    "park": "双桥",
    "enterprise": {
        "name": "艾格莱德(郑州)科技有限公司",
        "uscc": "91410100MA9FXXXX1Y",
        "origin": "OUT_OF_PROVINCE",
        "origin_region": "上海",
    },
    "category": "ADVANCED_MANUFACTURING",
    "chain_tag": "ELECTRONIC_INFORMATION",
    "is_manufacturing": True,
    "funding_origin": "OUT_OF_PROVINCE",
    "total_investment": 120_000,
    "contract_amount": 110_000,
    "annual_plan_investment": 40_000,
    "construction_content": "新建厂房及研发楼 5.2万㎡，汽车传感器生产线 6 条",
    "expected_annual_output": 300_000,
    "expected_jobs": 800,
    "responsible_unit": "双桥园区运营中心",
    "responsible_person": "王强",
    "sponsor_leader": "李明",
    "national_project_code": "2023-410171-36-03-012345",
    "signed_date": "2023-01-28",
    "planned_fulfill_date": "2023-03-15",
    "planned_start_date": "2023-04-01",
    "planned_completion_date": "2024-06-30",
    "planned_production_date": "2024-10-01",
    "planned_effective_date": "2025-10-01",
}


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def fields_of(response: httpx.Response) -> list[str]:
    return [e["field"] for e in problem(response).get("errors", [])]


@asynccontextmanager
async def registry_client(
    tmp_path: Path, clock: FixedClock | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        RegistrySettings(data_dir=tmp_path, kafka_enabled=False, **settings),
        clock=clock or FixedClock(MID_2023),
    )
    async with serve_in_process(app) as client:
        client.headers.update(auth(Role.ADMIN))
        yield client


async def outbox_events(
    client: httpx.AsyncClient, event_type: str | None = None
) -> list[dict[str, Any]]:
    """The CloudEvents the app enqueued (Kafka is off, so they stay in the outbox), oldest first."""
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.read() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    events = [json.loads(r.value) for r in rows]
    suffix = f"sanpi.{event_type}.v1" if event_type else None
    return [e for e in events if suffix is None or e["type"] == suffix]


async def create(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/projects", json={**FULL_PROJECT, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_period(client: httpx.AsyncClient, number: int, event_date: str) -> dict[str, Any]:
    response = await client.post("/v1/periods", json={"number": number, "event_date": event_date})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def list_on(
    client: httpx.AsyncClient, project_id: str, period: int, batch: str
) -> httpx.Response:
    return await client.post(
        f"/v1/projects/{project_id}/listings", json={"period": period, "batch": batch}
    )


@dataclass
class StageRecord:
    """A Kafka record as the consumer sees it."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    partition: int = 0
    offset: int = 0


async def stage_changed(
    client: httpx.AsyncClient,
    project_id: str,
    to: str,
    on: str,
    *,
    from_stage: str = "SIGNED",
    reason: str = "MILESTONE",
    version: int | None = None,
    now: bool = True,
) -> StageRecord:
    """Feeds the registry's consumer (inbox included) a project.stage_changed, as the milestone
    service would (without a version unless given: as published before versions existed);
    returns the record so a test can deliver it again, or later (`now=False`)."""
    data = ProjectStageChanged(
        project_id=project_id,
        from_stage=Stage(from_stage),
        to_stage=Stage(to),
        effective_date=dt.date.fromisoformat(on),
        reason=reason,
        changed_by="milestone-test",
        version=version,
    )
    _event, record = build_record(data, source="/sanpi/milestone")
    fake = StageRecord(record.topic, record.key, record.value, list(record.headers))
    if now:
        await deliver(client, fake)
    return fake


async def funds_reported(
    client: httpx.AsyncClient, project_id: str, period_key: str, funds: int | None
) -> StageRecord:
    """Feeds the registry's consumer a progress.reported of `period_key` (a month or a 旬) with
    its 到位资金, as the milestone service would; returns the record."""
    data = ProgressReported(
        project_id=project_id,
        report_id=f"{project_id}:{period_key}",
        period_kind=ReportPeriodKind.XUN if "-X" in period_key else ReportPeriodKind.MONTH,
        period_key=period_key,
        completed_investment_cum=0,
        completed_investment_ytd=0,
        funds_arrived_cum=funds,
        reported_by="milestone-test",
    )
    _event, record = build_record(data, source="/sanpi/milestone")
    fake = StageRecord(record.topic, record.key, record.value, list(record.headers))
    await deliver(client, fake)
    return fake


async def deliver(client: httpx.AsyncClient, record: StageRecord) -> str:
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    outcome = await runtime.consumer.process(record)
    return str(outcome)
