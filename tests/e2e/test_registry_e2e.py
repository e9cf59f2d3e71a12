"""The registry over the real broker: its events on sanpi.projects, the stage projection, and the
district demo loaded through the public APIs (twice: nothing duplicated)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from sanpi.client.demo.generator import district
from sanpi.client.demo.loader import load_district
from sanpi.client.sdk import SanpiClient, ServiceUrls
from tests.conftest import Broker, Stack
from tests.support.kafka import header, read_until
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
            str(header(r, "ce_type")): json.loads(r.value)["data"]
            for r in records
            if r.key == project_id.encode() and header(r, "ce_type") in wanted
        }

    records = await read_until(
        kafka_broker.bootstrap, "sanpi.projects", lambda rs: len(mine(rs)) == len(wanted)
    )
    events = mine(records)
    assert events["sanpi.project.listed.v1"]["period"] == 107
    assert events["sanpi.project.updated.v1"]["changed"] == ["sponsor_leader"]
    assert events["sanpi.project.cancelled.v1"]["reason_code"] == "LAND"
    types = {header(r, "ce_type") for r in records}
    assert {"sanpi.period.opened.v1", "sanpi.target.set.v1"} <= types


async def test_the_district_demo_loads_over_the_apis_and_twice_duplicates_nothing(
    services: Stack,
) -> None:
    urls = ServiceUrls(**services.urls)
    data = district(2023)
    with SanpiClient(services.token(subject="demo"), urls) as client:
        first = load_district(client, data, wait_timeout=60)
        second = load_district(client, data, wait_timeout=60)
        assert first.ids == second.ids
        assert first.milestones > 100
        assert second.milestones == 0
        assert second.skipped_milestones == first.milestones
        listings = client.registry.list_listings(period=7, limit=500)["items"]
        assert len(listings) == 12
        assert sum(x["listed_total_investment"] for x in listings) == 1_607_000
        seen = client.registry.list_projects(q="雄韬氢能", limit=10)["items"]
        assert [p["name"] for p in seen] == ["雄韬氢能产业园"]
        assert client.registry.get_period(7)["status"] == "CLOSED"

        def producing() -> int:
            page = client.registry.list_projects(stage="IN_PRODUCTION", limit=500)
            return len(page["items"])

        expected = sum(
            1 for p in data.projects
            if p.produced and p.produced <= data.as_of and not (p.effective and p.effective <= data.as_of)
            and not p.cancelled
        )  # fmt: skip
        await eventually(
            lambda: producing() == expected or None, timeout=60, what="stage projection"
        )
        indicators = client.registry.indicators(year=2023, as_of="2024-12-31")
        assert indicators["periods"][0]["period"] == 7
        assert indicators["targets"][0]["target"] == 4_000_000
