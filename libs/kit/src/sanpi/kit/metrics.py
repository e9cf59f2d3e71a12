"""Prometheus metrics shared by every service (names start with sanpi_; never a project id label)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

HTTP_REQUESTS = Counter(
    "sanpi_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "sanpi_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_PUBLISHED = Counter(
    "sanpi_events_published_total",
    "Events the outbox relay published and Kafka acknowledged, by topic and type.",
    ["topic", "type"],
)
EVENTS_CONSUMED = Counter(
    "sanpi_events_consumed_total",
    "Records consumed, by topic, type and outcome (processed, duplicate, ignored, dead_lettered).",
    ["topic", "type", "outcome"],
)
EVENTS_FAILED = Counter(
    "sanpi_events_failed_total",
    "Handler attempts that raised, by topic and type (each retry counts).",
    ["topic", "type"],
)
EVENTS_STALE = Counter(
    "sanpi_events_stale_total",
    "Events a projection ignored because it already held a newer or the same version of their "
    "aggregate (a late or redriven record), by type.",
    ["type"],
)
DLQ_RECORDS = Counter(
    "sanpi_dlq_records_total",
    "Records sent to a dead-letter topic, by source topic.",
    ["topic"],
)
OUTBOX_BACKLOG = Gauge(
    "sanpi_outbox_backlog",
    "Outbox rows committed but not yet acknowledged by Kafka.",
)
OUTBOX_OLDEST_AGE = Gauge(
    "sanpi_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when the outbox is empty).",
)
CONSUMER_LAG = Gauge(
    "sanpi_consumer_lag",
    "Records not yet processed by this service's consumer, by topic and partition "
    "(high-water mark minus the consumer's position).",
    ["topic", "partition"],
)
CONSUMER_BLOCKED = Gauge(
    "sanpi_consumer_blocked",
    "1 while this service's consumer waits for its database or the broker to come back "
    "(consumption paused, nothing counted as a failed attempt), else 0.",
)
CONSUMER_BLOCKED_SECONDS = Counter(
    "sanpi_consumer_blocked_seconds_total",
    "Seconds this service's consumer spent waiting for its database or the broker.",
)
CONSUMER_TRANSIENT_FAILURES = Counter(
    "sanpi_consumer_transient_failures_total",
    "Consumer transactions and dead-letter sends that failed on the infrastructure, by kind "
    "(database, locked, disk_full, broker); none of them counts as an attempt.",
    ["kind"],
)
RETENTION_PRUNED = Counter(
    "sanpi_retention_pruned_rows_total",
    "Rows the pruner deleted because their retention was over, by table (inbox, idempotency, "
    "deliveries, dead_deliveries).",
    ["table"],
)
RETENTION_OLDEST_AGE = Gauge(
    "sanpi_retention_oldest_row_age_seconds",
    "Age of the oldest row a pruned table keeps, by table (0 when it is empty), as of the "
    "pruner's last pass.",
    ["table"],
)
CALENDAR_UNKNOWN_YEAR = Counter(
    "sanpi_calendar_unknown_year_total",
    "Dates asked of the working-day calendar in a year whose public holidays the installed "
    "chinesecalendar package does not carry (upgrade it), by year.",
    ["year"],
)
KAFKA_CONNECTED = Gauge(
    "sanpi_kafka_connected",
    "1 when this service's Kafka producer is connected and the broker answered its last "
    "metadata request (asked every 5 s), else 0.",
)

UNMATCHED_ROUTE = "<unmatched>"


class SnapshotGauge:
    """A labelled gauge published as a whole: each `publish` sets the new label sets and removes
    the ones that are gone, so a park without red alerts any more shows no stale count."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.gauge = Gauge(name, documentation, list(labelnames))
        self._published: set[tuple[str, ...]] = set()

    def publish(self, values: Mapping[tuple[str, ...], float]) -> None:
        for labels, value in values.items():
            self.gauge.labels(*labels).set(value)
        for labels in self._published - values.keys():
            self.gauge.remove(*labels)
        self._published = set(values)


def initialise_event_series(
    *, produced: Iterable[tuple[str, str]], consumed: Iterable[tuple[str, str]]
) -> None:
    """Creates the (topic, type) series at 0, so rates and alerts see a series from the start
    instead of "no data" until the first event (Prometheus naming practices)."""
    for topic, event_type in produced:
        EVENTS_PUBLISHED.labels(topic, event_type)
    topics = set()
    for topic, event_type in consumed:
        topics.add(topic)
        EVENTS_FAILED.labels(topic, event_type)
        EVENTS_STALE.labels(event_type)
        for outcome in ("processed", "duplicate", "dead_lettered"):
            EVENTS_CONSUMED.labels(topic, event_type, outcome)
    for topic in topics:
        DLQ_RECORDS.labels(topic)


def observe_request(scope: MutableMapping[str, Any], status: int, duration_s: float) -> None:
    """Counts and times a request by route template (`/v1/projects/{project_id}`), not raw path."""
    template = route_template(scope)
    method = scope.get("method", "")
    HTTP_REQUESTS.labels(method, template, str(status)).inc()
    HTTP_DURATION.labels(method, template).observe(duration_s)


def route_template(scope: MutableMapping[str, Any]) -> str:
    """`/v1/projects/{project_id}` for `/v1/projects/3f2a…`: the path with its parameters named.

    Built from the matched path parameters rather than router internals, which FastAPI changes
    between versions. Unmatched paths share one label so that scanners cannot grow the series.
    """
    if scope.get("route") is None:
        return UNMATCHED_ROUTE
    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    segments = str(scope.get("path", "")).split("/")
    return "/".join(f"{{{params[s]}}}" if s in params else s for s in segments)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
