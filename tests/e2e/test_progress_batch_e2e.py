"""Over the real broker and the three services as processes: a batch's reports publish the same
events as the same reports posted one by one, and reach a webhook subscriber alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Broker, Stack
from tests.support.kafka import read_until
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

REPORTS = [
    {"period_key": "2023-04-X1", "completed_investment_cum": 10_000,
     "completed_investment_ytd": 4_000, "physical_progress_pct": 12.5},
    {"period_key": "2023-04", "completed_investment_cum": 12_000,
     "completed_investment_ytd": 6_000, "funds_arrived_cum": 9_000, "narrative": "主体施工"},
    {"period_key": "2023-04-X2", "completed_investment_cum": 11_000,
     "completed_investment_ytd": 5_000},
]  # fmt: skip
# Differ between two projects reporting the same figures: ids and the instants things happened.
VARYING = ("report_id", "evaluation_id", "first_raised_at", "resolved_at", "milestone_id")


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=30) as client:
        yield client


async def register(http: httpx.AsyncClient, services: Stack, n: int) -> list[str]:
    ids = []
    for i in range(n):
        created = await http.post(
            f"{services.urls['registry']}/v1/projects",
            json={
                "name": f"批量填报项目{i}",
                "park": "双桥",
                "total_investment": 150_000,
                "signed_date": "2023-01-28",
                "planned_start_date": "2023-03-01",
            },
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])

    async def known() -> bool:
        for pid in ids:
            url = f"{services.urls['milestone']}/v1/projects/{pid}/timeline"
            if (await http.get(url, params={"limit": 1})).status_code != 200:
                return False
        return True

    await eventually(known, what="the milestone service knows the projects")
    return ids


def by_project(records: list[Any], projects: list[str]) -> list[tuple[str, str]]:
    """The events about `projects`, each project's id replaced by its position (the same
    reports were sent for projects[i] of either list)."""
    out = []
    for record in records:
        event = json.loads(record.value)
        pid = event["data"].get("project_id")
        if pid not in projects:
            continue
        data = {k: v for k, v in event["data"].items() if k not in VARYING}
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        out.append((event["type"], text.replace(pid, f"#{projects.index(pid)}")))
    return sorted(out)


async def test_a_batch_publishes_the_events_single_reports_publish(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker, webhook_sink: WebhookSink
) -> None:
    ids = await register(http, services, 6)
    batched, single = ids[:3], ids[3:]
    subscribed = await http.post(
        f"{services.urls['notification']}/v1/subscriptions",
        json={
            "channel": "webhook",
            "url": webhook_sink.url,
            "event_types": ["sanpi.progress.reported.v1"],
            "project_ids": ids,
        },
    )
    assert subscribed.status_code == 201, subscribed.text

    answer = await http.post(
        f"{services.urls['milestone']}/v1/progress/batch",
        json={"reports": [{"project_id": p, **r} for p, r in zip(batched, REPORTS, strict=True)]},
    )
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["late", "late", "late"]
    for pid, body in zip(single, REPORTS, strict=True):
        posted = await http.post(
            f"{services.urls['milestone']}/v1/projects/{pid}/progress", json=body
        )
        assert posted.status_code == 201, posted.text

    def reported(records: list[Any]) -> bool:
        seen = {
            json.loads(r.value)["data"]["project_id"]
            for r in records
            if json.loads(r.value)["type"] == "sanpi.progress.reported.v1"
        }
        return set(ids) <= seen

    records = await read_until(kafka_broker.bootstrap, "sanpi.milestones", reported, timeout=60)
    from_batch, from_singles = by_project(records, batched), by_project(records, single)
    assert from_batch == from_singles
    assert [t for t, _ in from_batch].count("sanpi.progress.reported.v1") == 3
    # Keyed by project, so per-project order holds for consumers.
    assert {
        r.key.decode() for r in records if json.loads(r.value)["data"].get("project_id") in batched
    } == set(batched)

    def delivered() -> set[str]:
        return {json.loads(r.body)["data"]["project_id"] for r in webhook_sink.accepted()}

    await eventually(lambda: set(ids) <= delivered() or None, timeout=60, what="six webhooks")
    assert len(webhook_sink.accepted()) == 6

    # The registry hears the same events: the two April reports' 到位资金 (9,000 万元 each) count
    # toward 双桥's 资金到位率 (other tests' projects in 双桥 may add theirs).
    async def funds_counted() -> dict[str, Any] | None:
        answer = await http.get(
            f"{services.urls['registry']}/v1/indicators",
            params={"park": "双桥", "year": 2023, "as_of": "2023-04-30"},
        )
        assert answer.status_code == 200, answer.text
        rate: dict[str, Any] = answer.json()["published"]["funds_arrival"]
        return rate if rate["numerator"] >= 18_000 else None

    rate = await eventually(funds_counted, timeout=60, what="the registry's 资金到位率")
    assert rate["denominator"] >= 6 * 150_000
