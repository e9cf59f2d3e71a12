"""One milestone update is one trace in a real Jaeger: the operator's POST, the outbox relay, the
Kafka send and receives, the registry's and the notification service's handling, the delivery
and its webhook POST, each service tracing to Jaeger's OTLP receiver; the trace is read back from
Jaeger's query API, and its context is on the record (header and CloudEvents extension) and on
the webhook request."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts import stack
from tests.conftest import Postgres, Stack, free_port, running_stack, start_broker
from tests.support.kafka import find_event, header
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

STAGE_CHANGED = "sanpi.project.stage_changed.v1"
PHOTO = "https://evidence.example/2023-03-01/site.jpg"


@pytest.fixture(scope="module")
def jaeger(run_dir: Path) -> Iterator[stack.JaegerPorts]:
    """Jaeger (make jaeger) on free ports of 127.0.0.1, spans in memory."""
    assert stack.jaeger_binary() is not None, "Jaeger is not built: make jaeger (or make tools)"
    directory = run_dir / "jaeger"
    ports = stack.JaegerPorts(ui=free_port(), otlp=free_port(), grpc=free_port())
    assert stack.start_jaeger(ports, run_dir=directory) is not None
    try:
        stack.wait_http(f"{ports.ui_url}/api/services", timeout=60)
        yield ports
    finally:
        stack.stop_pidfile(directory / "pids" / "jaeger.pid", stack.JAEGER_MARKER)


@pytest.fixture(scope="module")
def traced(
    jaeger: stack.JaegerPorts, run_dir: Path, postgres: Postgres | None
) -> Iterator[tuple[Stack, WebhookSink, str]]:
    """The three services as processes with a broker of their own, tracing to `jaeger`."""
    directory = run_dir / "traced"
    broker = start_broker(directory / "kafka")
    sink = WebhookSink().start()
    env = {
        "SANPI_OTLP_ENDPOINT": jaeger.otlp_url,
        # Spans leave within 0.2 s, not the SDK's default 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    try:
        with running_stack(
            broker.bootstrap, directory, postgres, database_prefix="traced", extra_env=env
        ) as services:
            yield services, sink, broker.bootstrap
    finally:
        sink.stop()
        broker.stop()


@pytest.fixture
async def http(traced: tuple[Stack, WebhookSink, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=traced[0].headers(), timeout=30) as client:
        yield client


def spans_by_service(trace: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for span in trace["spans"]:
        service = trace["processes"][span["processID"]]["serviceName"]
        found.setdefault(service, []).append(span)
    return found


def tag(span: dict[str, Any], key: str) -> Any:
    return next((t["value"] for t in span["tags"] if t["key"] == key), None)


async def test_one_milestone_update_is_one_trace_in_jaeger(
    jaeger: stack.JaegerPorts, traced: tuple[Stack, WebhookSink, str], http: httpx.AsyncClient
) -> None:
    services, sink, bootstrap = traced
    subscribed = await http.post(
        f"{services.urls['notification']}/v1/subscriptions",
        json={"channel": "webhook", "url": sink.url, "event_types": [STAGE_CHANGED]},
    )
    assert subscribed.status_code == 201, subscribed.text
    registered = await http.post(
        f"{services.urls['registry']}/v1/projects",
        json={
            "name": "追踪示范项目",
            "park": "梧桐",
            "total_investment": 150_000,
            "planned_start_date": "2023-03-01",
            "planned_production_date": "2024-06-30",
        },
    )
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["id"]

    async def known() -> bool:
        timeline = f"{services.urls['milestone']}/v1/projects/{project_id}/timeline"
        return (await http.get(timeline)).status_code == 200

    await eventually(known, what="the milestone service knows the project")

    # The operator's client (or a gateway) starts the trace; the service continues it.
    trace_id = secrets.token_hex(16)
    started = await http.post(
        f"{services.urls['milestone']}/v1/projects/{project_id}/milestones",
        json={"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert started.status_code == 201, started.text

    def delivered() -> list[Any]:
        return [r for r in sink.accepted() if json.loads(r.body)["subject"] == project_id]

    (webhook,) = await eventually(delivered, what="the webhook reached the receiver")
    # The webhook request carries the trace, and its body (the CloudEvent) the extension.
    assert webhook.headers["traceparent"].split("-")[1] == trace_id
    assert json.loads(webhook.body)["traceparent"].split("-")[1] == trace_id
    # So does the Kafka record: a `traceparent` header beside sanpi_type / sanpi_id.
    record = await find_event(
        bootstrap, "sanpi.milestones", key=project_id, event_type=STAGE_CHANGED
    )
    assert (header(record, "traceparent") or "").split("-")[1] == trace_id
    assert json.loads(record.value)["traceparent"].split("-")[1] == trace_id

    wanted = {
        "sanpi-milestone": {
            "POST /v1/projects/{project_id}/milestones",
            "rules evaluate",
            "outbox relay",
            "sanpi.milestones send",
        },
        "sanpi-registry": {"sanpi.milestones receive", f"{STAGE_CHANGED} process"},
        "sanpi-notification": {
            "sanpi.milestones receive",
            f"{STAGE_CHANGED} process",
            "notification deliver",
            "POST",
        },
    }

    async def complete() -> dict[str, list[dict[str, Any]]] | None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{jaeger.ui_url}/api/traces/{trace_id}")
        if answer.status_code != 200:
            return None
        (trace,) = answer.json()["data"]
        found = spans_by_service(trace)
        names = {service: {s["operationName"] for s in spans} for service, spans in found.items()}
        return found if all(w <= names.get(s, set()) for s, w in wanted.items()) else None

    found = await eventually(complete, timeout=60, interval=0.5, what="every hop in Jaeger")
    milestone = found["sanpi-milestone"]
    # The evaluation and the writes are there too: the database's statements of the POST.
    assert any(tag(s, "db.system") or tag(s, "db.system.name") for s in milestone)
    (post,) = [s for s in found["sanpi-notification"] if s["operationName"] == "POST"]
    assert tag(post, "http.url") == sink.url or tag(post, "url.full") == sink.url
    assert tag(post, "http.status_code") == 204 or tag(post, "http.response.status_code") == 204
    print(  # the operator's view: which hops, in which service (pytest -s shows it)
        json.dumps({s: sorted({x["operationName"] for x in v}) for s, v in found.items()}),
        os.linesep,
    )
