"""One flow through all three services over the real broker: register → start → stage → webhook."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.conftest import Broker, Stack
from tests.support.kafka import find_event, header, produce, read_until
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PHOTO = "https://evidence.example/2023-03-01/site.jpg"


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as client:
        yield client


async def register(http: httpx.AsyncClient, services: Stack, name: str, park: str = "梧桐") -> str:
    response = await http.post(
        f"{services.urls['registry']}/v1/projects",
        json={
            "name": name,
            "park": park,
            "total_investment": 150_000,
            "planned_start_date": "2023-03-01",
            "planned_production_date": "2024-06-30",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["stage"] == "SIGNED"
    project_id: str = response.json()["id"]
    return project_id


async def subscribe(
    http: httpx.AsyncClient, services: Stack, url: str, *event_types: str
) -> dict[str, str]:
    response = await http.post(
        f"{services.urls['notification']}/v1/subscriptions",
        json={"channel": "webhook", "url": url, "event_types": list(event_types)},
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def known_to_milestone(http: httpx.AsyncClient, services: Stack, project_id: str) -> None:
    async def probe() -> bool:
        response = await http.get(f"{services.urls['milestone']}/v1/projects/{project_id}/timeline")
        return response.status_code == 200

    await eventually(probe, what=f"milestone service knows {project_id}")


async def test_stage_change_flows_to_registry_and_a_signed_webhook(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker, webhook_sink: WebhookSink
) -> None:
    secret = (await subscribe(http, services, webhook_sink.url, "sanpi.project.stage_changed.v1"))[
        "secret"
    ]
    assert secret.startswith("whsec_")

    project_id = await register(http, services, "雄韬氢能产业园")
    await known_to_milestone(http, services, project_id)

    started = await http.post(
        f"{services.urls['milestone']}/v1/projects/{project_id}/milestones",
        json={"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]},
    )
    assert started.status_code == 201, started.text
    assert started.json()["stage"] == "UNDER_CONSTRUCTION"

    async def registry_stage() -> str | None:
        project = (await http.get(f"{services.urls['registry']}/v1/projects/{project_id}")).json()
        return project["stage"] if project["stage"] == "UNDER_CONSTRUCTION" else None

    await eventually(registry_stage, what="registry shows UNDER_CONSTRUCTION")

    def delivered() -> list[dict[str, object]]:
        hits = []
        for request in webhook_sink.accepted():
            event = Webhook(secret).verify(request.body, request.headers)  # raises if badly signed
            if event["subject"] == project_id:
                hits.append(event)
        return hits

    events = await eventually(delivered, what="signed webhook received")
    assert len(events) == 1
    assert events[0]["type"] == "sanpi.project.stage_changed.v1"
    assert events[0]["data"]["to_stage"] == "UNDER_CONSTRUCTION"  # type: ignore[index]
    assert events[0]["data"]["evidence"] == [PHOTO]  # type: ignore[index]

    # The CloudEvents records are on the topics for any Kafka client to read.
    registered = await find_event(
        kafka_broker.bootstrap,
        "sanpi.projects",
        key=project_id,
        event_type="sanpi.project.registered.v1",
    )
    assert json.loads(registered.value)["data"]["name"] == "雄韬氢能产业园"
    changed = await find_event(
        kafka_broker.bootstrap,
        "sanpi.milestones",
        key=project_id,
        event_type="sanpi.project.stage_changed.v1",
    )
    assert json.loads(changed.value)["data"]["from_stage"] == "SIGNED"


async def test_illegal_transition_unknown_project_and_bad_input_are_clear_problems(
    http: httpx.AsyncClient, services: Stack
) -> None:
    milestone = services.urls["milestone"]
    unknown = await http.post(
        f"{milestone}/v1/projects/{uuid.uuid4()}/milestones",
        json={"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]},
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"

    project_id = await register(http, services, "上海重塑燃料电池产业化基地", park="枫杨")
    await known_to_milestone(http, services, project_id)
    url = f"{milestone}/v1/projects/{project_id}/milestones"

    no_evidence = await http.post(url, json={"kind": "STARTED", "date": "2023-03-01"})
    assert no_evidence.status_code == 409
    assert "佐证材料" in no_evidence.json()["detail"]

    skipping = await http.post(
        url, json={"kind": "IN_PRODUCTION", "date": "2023-03-01", "evidence": [PHOTO]}
    )
    assert skipping.status_code == 409
    assert skipping.json()["detail"] == "IN_PRODUCTION 不能把项目从 SIGNED 推进到 IN_PRODUCTION"
    in_english = await http.post(
        url,
        json={"kind": "IN_PRODUCTION", "date": "2023-03-01", "evidence": [PHOTO]},
        headers={"Accept-Language": "en"},
    )
    assert (
        in_english.json()["detail"]
        == "IN_PRODUCTION cannot move a project from SIGNED to IN_PRODUCTION"
    )

    bad_kind = await http.post(url, json={"kind": "LAUNCHED", "date": "2023-03-01"})
    assert bad_kind.status_code == 422
    assert [e["field"] for e in bad_kind.json()["errors"]] == ["kind"]

    bad_date = await http.post(url, json={"kind": "TOPPED_OUT", "date": "03/01/2023"})
    assert bad_date.status_code == 422
    assert [e["field"] for e in bad_date.json()["errors"]] == ["date"]

    malformed = await http.post(url, content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400


async def test_poison_records_go_to_the_dlq_and_never_block_a_partition(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker
) -> None:
    poison = f"poison-{uuid.uuid4().hex}".encode()
    for partition in range(6):  # whichever partition the next project lands on holds poison first
        await produce(kafka_broker.bootstrap, "sanpi.projects", [poison], partition=partition)
    project_id = await register(http, services, "艾派克微集成电路封测")
    await known_to_milestone(http, services, project_id)

    def both_consumers_dead_lettered(records: list) -> bool:  # type: ignore[type-arg]
        # Every poison record, not the first of each consumer: the others may still be on
        # their way, and a read that stopped early counted 11 of 12.
        mine = [r for r in records if r.value == poison]
        consumers = {header(r, "dlq_consumer") for r in mine}
        return {"sanpi-milestone", "sanpi-notification"} <= consumers and len(mine) >= 12

    dead = await read_until(
        kafka_broker.bootstrap, "sanpi.projects.dlq", both_consumers_dead_lettered
    )
    mine = [r for r in dead if r.value == poison]
    assert len(mine) == 12  # 6 partitions x 2 consuming services, each exactly once
    assert all(header(r, "dlq_topic") == "sanpi.projects" for r in mine)
    assert "healthz" not in services.log("milestone")  # the consumers never crashed and restarted
    assert "crashed" not in services.log("milestone") + services.log("notification")


async def test_a_redelivered_event_does_not_notify_twice(
    http: httpx.AsyncClient, services: Stack, kafka_broker: Broker, webhook_sink: WebhookSink
) -> None:
    await subscribe(http, services, webhook_sink.url, "sanpi.project.*", "sanpi.milestone.*")
    project_id = await register(http, services, "郑州机械研究所高端装备制造产业园")
    await known_to_milestone(http, services, project_id)
    url = f"{services.urls['milestone']}/v1/projects/{project_id}/milestones"
    assert (
        await http.post(url, json={"kind": "STARTED", "date": "2023-05-08", "evidence": [PHOTO]})
    ).status_code == 201

    original = await find_event(
        kafka_broker.bootstrap,
        "sanpi.milestones",
        key=project_id,
        event_type="sanpi.project.stage_changed.v1",
    )
    event_id = json.loads(original.value)["id"]

    def deliveries_of(eid: str) -> int:
        return sum(1 for r in webhook_sink.accepted() if json.loads(r.body)["id"] == eid)

    await eventually(lambda: deliveries_of(event_id) == 1, what="first delivery")
    # Kafka redelivers the same record twice (same key, so same partition, in order) ...
    await produce(
        kafka_broker.bootstrap,
        "sanpi.milestones",
        [original.value, original.value],
        key=original.key,
        headers=list(original.headers),
    )
    # ... followed by a fresh event on that partition: once it is delivered, the copies were seen.
    sentinel = await http.post(url, json={"kind": "TOPPED_OUT", "date": "2023-09-01"})
    assert sentinel.status_code == 201

    def sentinel_delivered() -> bool:
        return any(
            json.loads(r.body)["type"] == "sanpi.milestone.achieved.v1"
            and json.loads(r.body)["data"]["kind"] == "TOPPED_OUT"
            and json.loads(r.body)["subject"] == project_id
            for r in webhook_sink.accepted()
        )

    await eventually(sentinel_delivered, what="sentinel delivered")
    assert deliveries_of(event_id) == 1
    project = (await http.get(f"{services.urls['registry']}/v1/projects/{project_id}")).json()
    assert project["stage"] == "UNDER_CONSTRUCTION"


async def test_a_failing_receiver_gets_exactly_one_accepted_delivery(
    http: httpx.AsyncClient, services: Stack, webhook_sink: WebhookSink
) -> None:
    webhook_sink.script.extend([500, 503, 502])
    sub_id = (await subscribe(http, services, webhook_sink.url, "sanpi.project.registered.v1"))[
        "id"
    ]
    project_id = await register(http, services, "新开普智慧教育研发产业基地")

    def accepted_for_project() -> list[object]:
        return [r for r in webhook_sink.accepted() if json.loads(r.body)["subject"] == project_id]

    assert len(await eventually(accepted_for_project, what="delivery after three failures")) == 1
    attempts = [r for r in webhook_sink.snapshot() if json.loads(r.body)["subject"] == project_id]
    assert [r.status for r in attempts] == [500, 503, 502, 204]
    assert len({r.headers["webhook-id"] for r in attempts}) == 1, "retries keep the webhook-id"

    async def delivered() -> dict[str, Any] | None:
        # The receiver's 204 arrives before the service records it: wait for the record.
        log = (
            await http.get(
                f"{services.urls['notification']}/v1/deliveries", params={"subscription": sub_id}
            )
        ).json()
        return next((d for d in log["items"] if d["status"] == "DELIVERED"), None)

    delivery = await eventually(delivered, what="the delivery log shows DELIVERED")
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 502, 204]
