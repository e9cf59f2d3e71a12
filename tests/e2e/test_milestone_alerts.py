"""Over the real broker: register → report behind plan → evaluate later → alert.raised red on
sanpi.alerts → catch up → alert.resolved; and re-delivered registry records change nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sanpi.events import ProjectListed, build_record
from sanpi.events.vocabulary import BatchType
from tests.conftest import Broker, Stack
from tests.support.flows import started_behind_plan
from tests.support.kafka import find_event, produce, read_until
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as client:
        yield client


def alert_records(records: list[Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for record in records:
        event = json.loads(record.value)
        if event["data"].get("alert_key") == key:
            found.append((event["type"], event["data"]))
    return found


async def test_behind_plan_raises_red_and_catching_up_resolves_it_over_kafka(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker
) -> None:
    milestone = services.urls["milestone"]
    project_id = await started_behind_plan(
        http, services, name="艾格莱德汽车传感及控制器研发生产基地", park="双桥"
    )
    project = f"{milestone}/v1/projects/{project_id}"

    key = f"R04:{project_id}:XUN"
    try:
        # As of 3 August: 21 of 36 旬 (58 %) expected, 14 % done. Pinned, so that the passes the
        # catch-up report triggers run as of that day too (not as of the real today).
        evaluated = await http.post(
            f"{milestone}/v1/admin/evaluate", params={"as_of": "2023-08-03", "pin": "true"}
        )
        assert evaluated.status_code == 200, evaluated.text
        assert key in evaluated.json()["raised"]
        raised = await read_until(
            kafka_broker.bootstrap, "sanpi.alerts", lambda rs: bool(alert_records(rs, key))
        )
        [(kind, data)] = alert_records(raised, key)
        assert kind == "sanpi.alert.raised.v1"
        assert (data["severity"], data["park"], data["as_of"]) == ("red", "双桥", "2023-08-03")
        assert data["evaluation_id"] == evaluated.json()["evaluation_id"]

        caught_up = await http.post(
            f"{project}/progress",
            json={
                "period_key": "2023-07-X3",
                "completed_investment_cum": 20_000,
                "completed_investment_ytd": 20_000,
            },
        )
        assert caught_up.status_code == 201, caught_up.text
        again = await http.post(f"{milestone}/v1/admin/evaluate", params={"as_of": "2023-08-03"})
        assert again.status_code == 200

        def resolved(records: list[Any]) -> bool:
            return any(t == "sanpi.alert.resolved.v1" for t, _ in alert_records(records, key))

        records = await read_until(kafka_broker.bootstrap, "sanpi.alerts", resolved)
        kinds = [(t, d["severity"]) for t, d in alert_records(records, key)]
        assert kinds == [("sanpi.alert.raised.v1", "red"), ("sanpi.alert.resolved.v1", "red")]
        listed = await http.get(f"{milestone}/v1/alerts", params={"project_id": project_id})
        r04 = [a for a in listed.json()["items"] if a["alert_key"] == key]
        assert [(a["state"], a["severity"]) for a in r04] == [("RESOLVED", "red")]

        # While still pinned (a scheduled pass then changes nothing), Kafka re-delivers the registry's records about this project, twice each ...
        before_timeline = (await http.get(f"{project}/timeline")).json()["items"]
        before_alerts = (
            await http.get(f"{milestone}/v1/alerts", params={"project_id": project_id})
        ).json()
        original = await find_event(
            kafka_broker.bootstrap,
            "sanpi.projects",
            key=project_id,
            event_type="sanpi.project.registered.v1",
        )
        await produce(
            kafka_broker.bootstrap,
            "sanpi.projects",
            [original.value, original.value],
            key=original.key,
            headers=list(original.headers),
        )
        # ... followed by a fresh event on the same partition: once it shows, the copies were seen.
        _event, sentinel = build_record(
            ProjectListed(
                project_id=project_id,
                period=8,
                batch=BatchType.START,
                listed_total_investment=150_000,
                listed_by="e2e",
            ),
            source="/sanpi/registry",
        )
        await produce(
            kafka_broker.bootstrap,
            "sanpi.projects",
            [sentinel.value],
            key=sentinel.key,
            headers=list(sentinel.headers),
        )

        async def sentinel_applied() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = (await http.get(f"{project}/timeline")).json()["items"]
            return items if items[-1]["event_type"] == "sanpi.project.listed.v1" else None

        after_timeline = await eventually(sentinel_applied, what="the sentinel listing applied")
        assert after_timeline[:-1] == before_timeline
        after_alerts = (
            await http.get(f"{milestone}/v1/alerts", params={"project_id": project_id})
        ).json()
        assert after_alerts == before_alerts
    finally:
        await http.delete(f"{milestone}/v1/admin/evaluate/pin")
