"""Traces (OpenTelemetry): set up only when configured, carried through the outbox, Kafka and webhooks.

One progress report is one trace: the operator's POST (FastAPI), its statements (SQLAlchemy),
the event it commits to the outbox (its W3C `traceparent` stored with the row and written into
the event as the CloudEvents `traceparent` extension), the relay's Kafka send (aiokafka puts a
`traceparent` header on the record), each consumer's handling of the event (a span whose parent
is the event's `traceparent`), the events the handlers publish in turn, and the webhook POST
that delivers the notification (aiohttp puts a `traceparent` header on it).

Off unless configured (settings.otlp_endpoint, SANPI_OTLP_ENDPOINT, or the standard
OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true wins).
Off, nothing of OpenTelemetry is imported and every hook is one test of `ENABLED`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine

    from sanpi.events import CloudEvent
    from sanpi.kit.outbox import PendingEvent
    from sanpi.kit.settings import ServiceSettings

log = logging.getLogger("sanpi.tracing")

TRACEPARENT = "traceparent"

# Read by every hook before it does anything: False costs one global lookup and a branch.
ENABLED = False

_tracer: Tracer | None = None
_provider: TracerProvider | None = None

# Requests that are not work: probes and scrapes would bury the traces that matter.
EXCLUDED_URLS = "healthz,readyz,metrics"


def endpoint(settings: ServiceSettings) -> str | None:
    """Where spans go: the OTLP/HTTP traces URL, or None when tracing is off."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otlp_endpoint:
        return settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if traces:
        return traces
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return base.rstrip("/") + "/v1/traces" if base else None


def configure(
    settings: ServiceSettings,
    app: FastAPI,
    *,
    engine: AsyncEngine | None = None,
    exporter: SpanExporter | None = None,
) -> bool:
    """Turns tracing on for this process if configured (or if `exporter` is given, for tests):
    the tracer provider, and the FastAPI, SQLAlchemy, aiokafka, aiohttp and httpx
    instrumentations. Returns whether tracing is on."""
    global ENABLED, _tracer, _provider
    url = endpoint(settings)
    if url is None and exporter is None:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    if _provider is None:
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=url)
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over the default name.
        resource = Resource.create(
            {"service.name": f"sanpi-{settings.SERVICE}", "service.namespace": "sanpi"}
        )
        # The sampler comes from OTEL_TRACES_SAMPLER / _ARG (default: every trace).
        _provider = TracerProvider(resource=resource)
        _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)
        AIOKafkaInstrumentor().instrument(tracer_provider=_provider)
        AioHttpClientInstrumentor().instrument(tracer_provider=_provider)
        HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
        _tracer = _provider.get_tracer("sanpi")
        log.info("tracing on: spans go to %s", url or type(exporter).__name__)
    # Without the spans of each ASGI message (`http receive`, `http send`): three spans a
    # request that say nothing the request's own span does not.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )
    if engine is not None:
        # Its declared range ends below SQLAlchemy 2.1, which the kit pins; it hooks only the
        # engine's public events, which 2.1 keeps (tests/unit/test_tracing.py checks the spans).
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine,
            tracer_provider=_provider,
            enable_commenter=False,
            skip_dep_check=True,
        )
    ENABLED = True
    return True


def shutdown() -> None:
    """Sends the spans still buffered (a stopping service's last ones)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5_000)


# --- the trace context ---------------------------------------------------------------------------


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, or None when there is none (or tracing is off)."""
    if not ENABLED:
        return None
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def _parent(traceparent: str | None) -> Any:
    from opentelemetry import propagate

    return propagate.extract({TRACEPARENT: traceparent} if traceparent else {})


def event_traceparent(event: CloudEvent) -> str | None:
    """The CloudEvents `traceparent` extension of an event, if it has one."""
    extensions = event.__pydantic_extra__
    value = extensions.get(TRACEPARENT) if extensions else None
    return value if isinstance(value, str) else None


@contextlib.contextmanager
def handling(event: CloudEvent, consumer: str) -> Iterator[None]:
    """A consumer's span for one event, continuing the trace of its `traceparent` extension:
    the events its handler publishes, and what they cause, stay in the same trace."""
    if _tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(
        f"{event.type} process",
        context=_parent(event_traceparent(event)),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.message.id": event.id,
            "cloudevents.event_type": event.type,
            "cloudevents.event_id": event.id,
            "cloudevents.event_source": event.source,
        },
    ):
        yield


async def send_rows(
    producer: AIOKafkaProducer,
    rows: Sequence[PendingEvent],
    headers: Callable[[Mapping[str, str]], list[tuple[str, bytes]]],
) -> list[asyncio.Future[Any]]:
    """The relay's send of outbox rows, each in a span continuing the trace its row was written
    in (its stored `traceparent`): the aiokafka instrumentation's send span is its child and
    writes the record's `traceparent` header. `headers(row)`: the row's Kafka headers."""
    assert _tracer is not None
    from opentelemetry.trace import SpanKind

    futures: list[asyncio.Future[Any]] = []
    for row in rows:
        stored: Mapping[str, str] = row.headers
        with _tracer.start_as_current_span(
            "outbox relay",
            context=_parent(stored.get(TRACEPARENT)),
            kind=SpanKind.INTERNAL,
            attributes={
                "cloudevents.event_type": row.event_type,
                "messaging.destination.name": row.topic,
            },
        ):
            # The send span writes the header anew: the stored one would be a second copy.
            without = {k: v for k, v in stored.items() if k != TRACEPARENT}
            futures.append(
                await producer.send(
                    row.topic, value=row.value, key=row.key.encode(), headers=headers(without)
                )
            )
    return futures


@contextlib.contextmanager
def evaluating(callers: Sequence[str | None], *, projects: int) -> Iterator[None]:
    """One evaluation pass for the changes of several callers (the milestone service's rules):
    a span in the first caller's trace, linked to the others', so that each update's trace
    shows the evaluation, and the alerts it raises continue from there."""
    if _tracer is None:
        yield
        return
    from opentelemetry import trace
    from opentelemetry.trace import Link

    links = []
    for traceparent in callers[1:]:
        context = trace.get_current_span(_parent(traceparent)).get_span_context()
        if context.is_valid:
            links.append(Link(context))
    with _tracer.start_as_current_span(
        "rules evaluate",
        context=_parent(callers[0] if callers else None),
        links=links,
        attributes={"sanpi.rules.projects": projects, "sanpi.rules.callers": len(callers)},
    ):
        yield


def body_traceparent(body: bytes) -> str | None:
    """The `traceparent` of a webhook body: the CloudEvent's extension, or the first carried
    event's in sanpi's envelope (a digest, a reminder)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    if isinstance(parsed.get(TRACEPARENT), str):
        return str(parsed[TRACEPARENT])
    events = parsed.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        found = events[0].get(TRACEPARENT)
        return found if isinstance(found, str) else None
    return None


@contextlib.contextmanager
def delivering(body: bytes, *, channel: str, delivery_id: str, attempt: int) -> Iterator[None]:
    """A delivery attempt's span, in the trace of the event it delivers: the webhook POST
    (aiohttp's client span, with its `traceparent` header) is its child."""
    if _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(
        "notification deliver",
        context=_parent(body_traceparent(body)),
        attributes={
            "sanpi.delivery.id": delivery_id,
            "sanpi.delivery.channel": channel,
            "sanpi.delivery.attempt": attempt,
        },
    ):
        yield
