"""The registry over the real broker: its events on sanpi.projects and the stage projection. (The
district demo loaded through the public APIs twice is in tests/demo/test_dashboards.py,
on the stack its dashboards test loads it into.)"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from sanpi.events import header_type
from sanpi.kit import CAMPAIGN_TZ
from tests.conftest import Broker, Stack
from tests.support.kafka import read_until
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PHOTO = "https://evidence.example/e2e/2025-02-01/start.jpg"


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as client:
        yield client


async def test_registry_events_reach_kafka_and_the_stage_comes_back(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker
) -> None:
    registry, milestone = services.urls["registry"], services.urls["milestone"]
    period = await http.post(
        f"{registry}/v1/periods", json={"number": 107, "event_date": "2049-01-28"}
    )
    assert period.status_code == 201, period.text
    target = await http.post(
        f"{registry}/v1/targets",
        json={"year": 2049, "scope": "郑州高新区", "kind": "MFG_SIGN_COUNT", "value": 12},
    )
    assert target.status_code == 201
    created = await http.post(
        f"{registry}/v1/projects",
        json={"name": "上海重塑燃料电池产业化基地", "park": "枫杨", "total_investment": 200_000,
              "chain_tag": "HYDROGEN_STORAGE", "is_manufacturing": True},
    )  # fmt: skip
    project_id = created.json()["id"]
    listed = await http.post(
        f"{registry}/v1/projects/{project_id}/listings", json={"period": 107, "batch": "SIGN"}
    )
    assert listed.status_code == 201
    patched = await http.patch(
        f"{registry}/v1/projects/{project_id}", json={"sponsor_leader": "李明", "version": 1}
    )
    assert patched.status_code == 200

    async def known() -> bool:
        return (await http.get(f"{milestone}/v1/projects/{project_id}/timeline")).status_code == 200

    await eventually(known, what="milestone service learned the project")
    started = await http.post(
        f"{milestone}/v1/projects/{project_id}/milestones",
        # A milestone cannot lie in the future (the milestone service refuses it), unlike periods.
        json={"kind": "STARTED", "date": "2025-02-01", "evidence": [PHOTO]},
    )
    assert started.status_code == 201, started.text

    async def projected() -> dict[str, object] | None:
        body: dict[str, object] = (await http.get(f"{registry}/v1/projects/{project_id}")).json()
        return body if body["stage"] == "UNDER_CONSTRUCTION" else None

    project = await eventually(projected, what="registry projection UNDER_CONSTRUCTION")
    assert project is not None
    assert project["started_date"] == "2025-02-01"
    cancelled = await http.post(
        f"{registry}/v1/projects/{project_id}/cancel",
        json={"reason_code": "LAND", "reason": "用地指标未落实"},
    )
    assert cancelled.status_code == 200

    wanted = {
        "sanpi.project.registered.v1",
        "sanpi.project.listed.v1",
        "sanpi.project.updated.v1",
        "sanpi.project.cancelled.v1",
    }

    def mine(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, dict[str, object]]:
        return {
            str(header_type(r.headers)): json.loads(r.value)["data"]
            for r in records
            if r.key == project_id.encode() and header_type(r.headers) in wanted
        }

    records = await read_until(
        kafka_broker.bootstrap, "sanpi.projects", lambda rs: len(mine(rs)) == len(wanted)
    )
    events = mine(records)
    assert events["sanpi.project.listed.v1"]["period"] == 107
    assert events["sanpi.project.updated.v1"]["changed"] == ["sponsor_leader"]
    assert events["sanpi.project.cancelled.v1"]["reason_code"] == "LAND"
    types = {header_type(r.headers) for r in records}
    assert {"sanpi.period.opened.v1", "sanpi.target.set.v1"} <= types


@pytest.mark.parametrize("declared", ["2025-02-10", None])
async def test_a_project_registered_started_is_dated_as_the_registry_counts_it_over_kafka(
    http: httpx.AsyncClient, services: Stack, declared: str | None
) -> None:
    # Seen on PostgreSQL: the milestone service dated such a project from its planned start,
    # where the registry counts its declared start day, else its day of registration (Shanghai).
    registry, milestone = services.urls["registry"], services.urls["milestone"]
    body = {"name": "京东方艺云区域总部", "park": "石佛", "total_investment": 80_000,
            "initial_stage": "UNDER_CONSTRUCTION", "funding_origin": "LOCAL",
            "planned_start_date": "2025-03-01"}  # fmt: skip
    if declared is not None:
        body["started_date"] = declared
    created = await http.post(f"{registry}/v1/projects", json=body)
    assert created.status_code == 201, created.text
    project = created.json()
    registered_on = dt.datetime.fromisoformat(project["created_at"]).astimezone(CAMPAIGN_TZ).date()

    async def tracked() -> dict[str, object] | None:
        answer = await http.get(
            f"{milestone}/v1/project-summaries", params={"ids": [project["id"]]}
        )
        items: list[dict[str, object]] = answer.json()["items"]
        return items[0] if items else None

    summary = await eventually(tracked, what="milestone service tracked the project")
    assert summary is not None
    assert (summary["stage"], summary["stage_since"]) == (
        "UNDER_CONSTRUCTION",
        declared or registered_on.isoformat(),
    )
