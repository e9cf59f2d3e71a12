"""Tracing: off unless configured; on, the trace goes with the event through the outbox, the relay,
a consumer's handling and the webhook delivery (in-memory spans; tests/e2e/test_tracing_jaeger.py
follows the same trace through real processes into Jaeger)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import select

from sanpi.events import TRACEPARENT, build_event, from_value, to_record
from sanpi.kit import Database, OutboxMessage, PendingEvent, tracing
from sanpi.kit.edge import EdgeMiddleware
from sanpi.kit.logs import current_context
from sanpi.kit.settings import ServiceSettings
from tests.unit.test_outbox import db, registered

__all__ = ["db"]  # the fixture, shared with the outbox's tests

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test, its spans kept in memory; off again afterwards."""
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    exporter = InMemorySpanExporter()
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure(ServiceSettings(), FastAPI(), exporter=exporter)
    yield exporter
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (
        AIOKafkaInstrumentor(),
        AioHttpClientInstrumentor(),
        HTTPXClientInstrumentor(),
        SQLAlchemyInstrumentor(),
    ):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    # Not monkeypatch.setattr: its undo would put the configured values back.
    tracing.ENABLED = False
    tracing._tracer = None
    tracing._provider = None


def finished(exporter: InMemorySpanExporter) -> dict[str, Any]:
    tracing.shutdown()
    return {span.name: span for span in exporter.get_finished_spans()}


# --- off -----------------------------------------------------------------------------------------


def test_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.endpoint(ServiceSettings()) is None
    assert not tracing.configure(ServiceSettings(), FastAPI())
    assert not tracing.ENABLED
    assert tracing.current_traceparent() is None


def test_where_spans_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert tracing.endpoint(ServiceSettings()) == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/traces")
    assert tracing.endpoint(ServiceSettings()) == "http://other:4318/traces"
    settings = ServiceSettings(otlp_endpoint="http://127.0.0.1:4318")
    assert tracing.endpoint(settings) == "http://127.0.0.1:4318/v1/traces"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.endpoint(settings) is None


async def test_off_an_event_carries_no_trace(db: Database) -> None:
    async with db.transaction() as uow:
        event = uow.publish(registered(1))
    assert TRACEPARENT not in (event.__pydantic_extra__ or {})
    async with db.read() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert TRACEPARENT not in row.headers
    assert TRACEPARENT not in json.loads(row.value)


# --- on ------------------------------------------------------------------------------------------


async def test_the_outbox_row_and_the_event_carry_the_trace(
    db: Database, spans: InMemorySpanExporter
) -> None:
    tracer = trace.get_tracer("test", tracer_provider=tracing._provider)
    with tracer.start_as_current_span("POST /v1/projects/p-1/progress") as request:
        async with db.transaction() as uow:
            uow.publish(registered(1))
    trace_id = f"{request.get_span_context().trace_id:032x}"
    async with db.read() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.headers[TRACEPARENT].split("-")[1] == trace_id
    # The CloudEvents Distributed Tracing extension: the value stands alone with its trace.
    assert from_value(row.value).model_dump()[TRACEPARENT] == row.headers[TRACEPARENT]


async def test_the_relay_sends_each_row_in_its_own_trace(spans: InMemorySpanExporter) -> None:
    sent: list[tuple[str, list[tuple[str, bytes]]]] = []

    class Producer:
        async def send(self, topic: str, **kwargs: Any) -> None:
            context = trace.get_current_span().get_span_context()
            sent.append((f"{context.trace_id:032x}", kwargs["headers"]))

    row = PendingEvent(1, "sanpi.project.registered.v1", "sanpi.projects", "p-1", b"{}", {})
    traced = row._replace(headers={"sanpi_id": "e-1", TRACEPARENT: PARENT})
    await tracing.send_rows(Producer(), [row, traced], tracing_headers)
    assert sent[1][0] == TRACE_ID
    assert sent[0][0] != TRACE_ID  # a row written untraced starts a trace of its own
    # The stored header is not sent as it was: the send span writes the record's own.
    assert sent[1][1] == [("sanpi_id", b"e-1")]
    relayed = [s for s in spans_of(spans) if s.name == "outbox relay"]
    assert {f"{s.context.trace_id:032x}" for s in relayed} >= {TRACE_ID}


def tracing_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in headers.items()]


def spans_of(exporter: InMemorySpanExporter) -> list[Any]:
    tracing.shutdown()
    return list(exporter.get_finished_spans())


async def test_a_consumer_continues_the_events_trace(spans: InMemorySpanExporter) -> None:
    event = build_event(registered(1), source="/sanpi/registry", traceparent=PARENT)
    assert dict(to_record(event, topic="sanpi.projects", key="p-1").headers)[TRACEPARENT] == (
        PARENT.encode()
    )
    with tracing.handling(event, "sanpi-milestone"):
        inner = tracing.current_traceparent()
    assert inner is not None
    assert inner.split("-")[1] == TRACE_ID
    span = finished(spans)["sanpi.project.registered.v1 process"]
    assert span.parent.span_id == int(PARENT.split("-")[2], 16)
    assert span.attributes["cloudevents.event_id"] == event.id


@pytest.mark.parametrize("envelope", [False, True], ids=["cloudevent", "digest"])
async def test_a_delivery_continues_the_trace_of_what_it_delivers(
    spans: InMemorySpanExporter, envelope: bool
) -> None:
    event = {"specversion": "1.0", "id": "e-1", TRACEPARENT: PARENT}
    body = json.dumps(
        {"type": "sanpi.notification.digest", "events": [event]} if envelope else event
    )
    assert tracing.body_traceparent(body.encode()) == PARENT
    with tracing.delivering(body.encode(), channel="WEBHOOK", delivery_id="d-1", attempt=1):
        pass
    span = finished(spans)["notification deliver"]
    assert f"{span.context.trace_id:032x}" == TRACE_ID


def test_a_body_without_a_trace() -> None:
    assert tracing.body_traceparent(b"not json") is None
    assert tracing.body_traceparent(b"[1]") is None
    assert tracing.body_traceparent(b'{"events": []}') is None


async def test_a_traced_request_without_a_traceparent_logs_the_trace_it_began(
    spans: InMemorySpanExporter,
) -> None:
    app = FastAPI()
    seen: dict[str, str] = {}

    @app.get("/probe")
    async def probe() -> dict[str, str]:
        seen.update(current_context())
        return {}

    app.add_middleware(EdgeMiddleware, max_body_bytes=1024)
    assert tracing.configure(ServiceSettings(), app, exporter=spans)  # as create_service_app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sanpi.test") as client:
        assert (await client.get("/probe")).status_code == 200
    names = finished(spans)
    span = names["GET /probe"]
    assert seen["trace_id"] == f"{span.context.trace_id:032x}"
    # One span a request, not one more for each ASGI message.
    assert not [name for name in names if name.endswith(("http send", "http receive"))]


async def test_an_evaluation_pass_continues_its_first_callers_trace_and_links_the_others(
    spans: InMemorySpanExporter,
) -> None:
    other = f"00-{'1' * 32}-{'2' * 16}-01"
    with tracing.evaluating([PARENT, other, None], projects=3):
        inside = tracing.current_traceparent()
    assert inside is not None
    assert inside.split("-")[1] == TRACE_ID  # the alerts it raises stay in the first trace
    span = finished(spans)["rules evaluate"]
    assert [f"{link.context.trace_id:032x}" for link in span.links] == ["1" * 32]
    assert span.attributes["sanpi.rules.callers"] == 3


async def test_the_database_statements_are_spans_on_the_pinned_sqlalchemy(
    db: Database, spans: InMemorySpanExporter
) -> None:
    """The SQLAlchemy instrumentation declares a range below the SQLAlchemy the kit pins (2.1):
    the kit instruments it anyway, and this is what says it still works."""
    assert tracing.configure(ServiceSettings(), FastAPI(), engine=db.engine, exporter=spans)
    tracer = trace.get_tracer("test", tracer_provider=tracing._provider)
    with tracer.start_as_current_span("request") as request:
        async with db.transaction() as uow:
            uow.publish(registered(1))
    statements = [s for s in spans_of(spans) if s.attributes.get("db.system")]
    assert statements, "no statement was traced"
    assert {s.context.trace_id for s in statements} == {request.get_span_context().trace_id}
    assert any("outbox" in str(s.attributes.get("db.statement", "")) for s in statements)
