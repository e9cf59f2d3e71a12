"""Helpers for notification tests: alert events as the milestone service builds them, records to
feed a consumer, a real SMTP server (aiosmtpd), and a Server-Sent Events reader."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import ssl
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlmodel import col, select

from sanpi.events import (
    AlertRaised,
    AlertRule,
    CloudEvent,
    EventData,
    KafkaRecord,
    Severity,
    build_record,
)
from sanpi.kit import FixedClock, OutboxMessage, Outcome, Runtime
from sanpi.notification.app import create_app
from sanpi.notification.settings import NotificationSettings
from scripts.stack import free_port
from tests.support.apps import auth, serve_in_process

MILESTONE_SOURCE = "/sanpi/milestone"


def alert(
    severity: Severity,
    *,
    park: str = "梧桐",
    evaluation_id: str | None = None,
    project_id: str | None = None,
    rule: AlertRule = AlertRule.R02,
    as_of: dt.date = dt.date(2023, 9, 1),
    **extra: Any,
) -> AlertRaised:
    """An alert.raised about one project, as the milestone service's rule evaluation emits it."""
    project_id = project_id or str(uuid.uuid4())
    fields: dict[str, Any] = {
        "alert_key": f"{rule}:{project_id}",
        "rule": rule,
        "severity": severity,
        "scope": "project",
        "project_id": project_id,
        "project_name": "雄韬氢能产业园",
        "park": park,
        "chain_tag": "HYDROGEN_STORAGE",
        "category": "ADVANCED_MANUFACTURING",
        "total_investment": 150_000,
        "periods": [7],
        "responsible_person": "张伟",
        "responsible_unit": "梧桐园区运营中心",
        "sponsor_leader": "李明",
        "title": "签约超过180天未开工",
        "message": "签约于2023-03-01，计划开工2023-06-01，至今未开工",
        "metric_value": 184.0,
        "threshold": 180.0,
        "as_of": as_of,
        "evaluation_id": evaluation_id or f"eval-{uuid.uuid4().hex[:8]}",
        "first_raised_at": dt.datetime(2023, 9, 1, 1, 0, tzinfo=dt.UTC),
    }
    fields.update(extra)
    return AlertRaised(**fields)


@dataclass(frozen=True)
class FakeRecord:
    """A consumed Kafka record, for feeding EventConsumer.process without a broker."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int = 0
    offset: int = 0


def record(data: EventData, source: str = MILESTONE_SOURCE) -> tuple[CloudEvent, KafkaRecord]:
    return build_record(data, source=source)


def as_consumed(kafka: KafkaRecord) -> FakeRecord:
    return FakeRecord(kafka.topic, kafka.key, kafka.value, kafka.headers)


@dataclass
class SmtpSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) that keeps every message."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received() if m["To"] == address]


class SmtpServer:
    """`ssl_context`: implicit TLS from the first byte (port 465 style); `server_kwargs` go to
    aiosmtpd's SMTP, e.g. {"tls_context": …, "require_starttls": True} for STARTTLS."""

    def __init__(
        self,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.sink = SmtpSink(port)
        self._controller = Controller(
            self.sink,
            hostname="127.0.0.1",
            port=port,
            ssl_context=ssl_context,
            **(server_kwargs or {}),
        )

    def start(self) -> SmtpSink:
        self._controller.start()
        return self.sink

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class SseMessage:
    id: str | None = None
    event: str | None = None
    data: str = ""
    comment: str | None = None


async def sse_messages(response: httpx.Response) -> AsyncIterator[SseMessage]:
    """Parses a text/event-stream body into messages (comments, e.g. heartbeats, included)."""
    current = SseMessage()
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines or current.comment is not None or current.id is not None:
                current.data = "\n".join(data_lines)
                yield current
            current, data_lines = SseMessage(), []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            current.comment = value
        elif name == "data":
            data_lines.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value


# --- the notification app in-process, on a FixedClock ------------------------------------------

SHANGHAI_10AM = dt.datetime(2023, 9, 1, 2, 0, tzinfo=dt.UTC)


@dataclass
class Harness:
    """The notification app in-process (Kafka off): an API client, its runtime and its clock.
    `feed` hands an event to the real consumer (inbox, handler, one transaction)."""

    client: httpx.AsyncClient
    runtime: Runtime
    clock: FixedClock

    async def feed(self, data: EventData, source: str = MILESTONE_SOURCE) -> CloudEvent:
        event, kafka = record(data, source)
        await self.feed_record(kafka)
        return event

    async def feed_record(self, kafka: KafkaRecord) -> Outcome:
        assert self.runtime.consumer is not None
        return await self.runtime.consumer.process(as_consumed(kafka))

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        """The `data` of events of this type waiting in the outbox (Kafka is off)."""
        async with self.runtime.db.read() as session:
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(col(OutboxMessage.id))
            )
            rows = (await session.exec(stmt)).all()
        return [json.loads(r.value)["data"] for r in rows]

    async def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/deliveries", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def harness_settings(tmp_path: Path, **overrides: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "kafka_enabled": False,
        "allow_loopback_targets": True,
        "delivery_backoff_base_s": 0.01,
        "delivery_max_attempts": 4,
        "timer_poll_s": 0.05,
        "grouping_window_s": 10.0,
        "red_repeat_interval_s": 3600.0,
        # From Friday 10:00 in Shanghai (SHANGHAI_10AM): 10:10, 10:20, 10:30 the same morning.
        "escalation_delays": ["10m", "20m", "30m"],
        # No bulletin unless a test serves one: never whatever answers on the local stack's port.
        "milestone_url": "",
    }
    values.update(overrides)
    return NotificationSettings(**values)


@asynccontextmanager
async def harness(
    tmp_path: Path, *, at: dt.datetime = SHANGHAI_10AM, **overrides: Any
) -> AsyncIterator[Harness]:
    """The app on a FixedClock at `at`, called by subject "officer" (admin) unless told else."""
    clock = FixedClock(at)
    app = create_app(harness_settings(tmp_path, **overrides), clock)
    async with serve_in_process(app) as client:
        client.headers.update(auth(subject="officer"))
        yield Harness(client, app.state.runtime, clock)


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A fresh SMTP server on a free loopback port for one test (`with smtp_sink() as smtp`)."""
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()
