"""The service runtime (DB, Kafka producer, outbox relay, consumer, workers) and the app factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import EVENT_TYPES, dead_letter_topic, encoded_headers
from sanpi.kit import tracing
from sanpi.kit.clock import Clock, SystemClock
from sanpi.kit.consumer import CaughtUp, EventConsumer, Handler, Prepare, Record
from sanpi.kit.db import Database
from sanpi.kit.edge import EdgeMiddleware
from sanpi.kit.errors import install_problem_handlers
from sanpi.kit.kafka import ensure_topics, make_producer
from sanpi.kit.metrics import (
    DLQ_RECORDS,
    KAFKA_CONNECTED,
    initialise_event_series,
    metrics_endpoint,
)
from sanpi.kit.migrations import Migrations, upgrade
from sanpi.kit.outbox import OutboxFull, OutboxRelay, PendingEvent
from sanpi.kit.ratelimit import RateLimiter
from sanpi.kit.retention import Retained, kit_retained, run_pruner
from sanpi.kit.security import install_api_docs
from sanpi.kit.settings import ServiceSettings
from sanpi.kit.stacks import dump_stacks_on_signal
from sanpi.kit.unit_of_work import UnitOfWork
from sanpi.kit.waiting import sleep_or_stop, within

# After the outbox's flush the producer holds only records sent in it, acknowledged within
# milliseconds by a broker that is there. With the grace (15 s) and the flush (10 s), a stop
# takes at most 30 s, inside the 40 s deploy/k8s gives a pod.
PRODUCER_STOP_S = 5.0

log = logging.getLogger("sanpi.runtime")

Worker = Callable[["Runtime", asyncio.Event], Awaitable[None]]

# The producer stays "started" while the broker is away, so the broker is asked for its metadata
# this often: sanpi_kafka_connected and /readyz's body say what it last answered.
KAFKA_CHECK_S = 5.0
KAFKA_CHECK_TIMEOUT_S = 3.0


@dataclass
class ServiceSpec:
    """Everything that makes one service different from another."""

    settings: ServiceSettings
    title: str
    description: str
    routers: Sequence[APIRouter]
    # The service's schema history, upgraded to head at start-up. None: the caller manages the
    # schema (tests of the kit itself).
    migrations: Migrations | None
    produces: Sequence[str] = ()
    consumes: Sequence[str] = ()
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    # Runs once before the handlers of each consumed batch (Handlers.before_batch).
    prepare: Prepare | None = None
    # Runs once the consumer has caught up, for what its batches left (Handlers.when_caught_up).
    caught_up: CaughtUp | None = None
    workers: Sequence[Worker] = ()
    # (path regex, bytes) for routes that take more than settings.max_body_bytes, e.g. uploads.
    body_limits: Sequence[tuple[str, int]] = ()
    # Rules, timers and quiet hours read the time here; tests pass a FixedClock.
    clock: Clock = field(default_factory=SystemClock)
    # The service's own tables kept for a while (the kit adds its inbox and idempotent answers).
    retained: Sequence[Retained] = ()


class Runtime:
    """What a running service holds; `app.state.runtime`. Starts and stops its parts in order."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.settings = spec.settings
        self.clock = spec.clock
        self.db = Database(
            self.settings.effective_database_url,
            event_source=self.settings.event_source,
            busy_timeout_ms=self.settings.database_busy_timeout_ms,
            sqlite_synchronous=self.settings.sqlite_synchronous,
        )
        self.producer: AIOKafkaProducer | None = None
        self.relay = OutboxRelay(
            self.db, self._send_batch, poll_interval=self.settings.outbox_poll_interval_ms / 1000
        )
        self.consumer: EventConsumer | None = None
        if spec.consumes:
            self.consumer = EventConsumer(
                db=self.db,
                settings=self.settings,
                topics=spec.consumes,
                handlers=spec.handlers,
                dead_letter=self._dead_letter,
                prepare=spec.prepare,
                caught_up=spec.caught_up,
            )
        self.stopping = asyncio.Event()
        self.kafka_ready = asyncio.Event()
        # What /readyz's body says of Kafka: "connecting", "ok" or "unavailable: <error>".
        self.kafka_state = "connecting"
        initialise_event_series(
            produced=[(m.TOPIC, t) for t, m in EVENT_TYPES.items() if m.TOPIC in spec.produces],
            consumed=[(EVENT_TYPES[t].TOPIC, t) for t in spec.handlers if t in EVENT_TYPES],
        )
        KAFKA_CONNECTED.set(0)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Tasks a graceful stop waits for (each watches `stopping`), the rest are cancelled.
        self._finish_on_stop = {"consumer", "pruner"}

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.spec.migrations is not None:
            # Before anything serves or consumes; concurrent replicas queue on a lock (migrations.py).
            await upgrade(self.db, self.spec.migrations)
        if self.settings.kafka_enabled:
            self._spawn("kafka", self._connect_kafka)
        # Kafka or not: the backlog gauges say how much waits while the broker is away.
        self._supervise("outbox-gauges", lambda rt, stopping: rt._watch_outbox(stopping))
        retained = [*kit_retained(self.settings), *self.spec.retained]
        self._supervise(
            "pruner",
            lambda rt, stopping: run_pruner(
                rt.db, retained, stopping, interval_s=rt.settings.prune_interval_s
            ),
        )
        for worker in self.spec.workers:
            name = getattr(worker, "__name__", "worker")
            self._supervise(name, worker)
            self._finish_on_stop.add(name)

    async def stop(self) -> None:
        """Graceful stop: the consumer finishes its batch and commits, the workers their round
        (a message on its way to a receiver is recorded), then the outbox is flushed."""
        self.stopping.set()
        # Cancelled mid-round, the delivery worker left a message the receiver had already
        # answered claimed, with no outcome: sent again after its lease, on every restart.
        finishing = [t for name, t in self._tasks.items() if name in self._finish_on_stop]
        if finishing:
            _done, late = await asyncio.wait(finishing, timeout=self.settings.shutdown_grace_s)
            for task in late:
                log.warning(
                    "%s did not finish within %.0f s of the stop (SANPI_SHUTDOWN_GRACE_S); "
                    "cancelled: what it had not committed is done again after the restart",
                    task.get_name(),
                    self.settings.shutdown_grace_s,
                )
        if self.producer is not None:
            flushed = await self.relay.flush(timeout=10)
            if not flushed:
                log.warning("outbox not empty at shutdown; the rows are published on next start")
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self.producer is not None:
            # Its stop waits for the records it holds to be acknowledged: with the broker gone,
            # for ever. They are outbox rows, deleted only once acknowledged, so the next start
            # publishes them.
            try:
                await within(self.producer.stop(), PRODUCER_STOP_S)
            except TimeoutError:
                log.warning(
                    "kafka producer not stopped within %.0f s (the broker away?); its records "
                    "stay in the outbox and are published on next start",
                    PRODUCER_STOP_S,
                )
            KAFKA_CONNECTED.set(0)
        await self.db.dispose()
        tracing.shutdown()

    async def _connect_kafka(self) -> None:
        # The HTTP API serves (and the outbox fills) while Kafka is away; connect when it is back.
        backoff = 0.5
        topics = [*self.spec.produces, *self.spec.consumes]
        while not self.stopping.is_set():
            producer = make_producer(self.settings)
            try:
                await ensure_topics(self.settings, topics)
                await producer.start()
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await producer.stop()
                log.warning(
                    "kafka not reachable (%s: %s); retrying in %.1fs",
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self.producer = producer
            KAFKA_CONNECTED.set(1)
            self.kafka_state = "ok"
            self.kafka_ready.set()
            log.info("connected to kafka at %s", self.settings.kafka_bootstrap)
            break
        if self.stopping.is_set():
            return
        self._supervise("kafka-check", lambda rt, stopping: rt._watch_kafka(stopping))
        self._supervise("relay", lambda rt, stopping: rt.relay.run(stopping))
        consumer = self.consumer
        if consumer is not None:
            self._supervise("consumer", lambda _rt, stopping: consumer.run(stopping))

    async def _watch_kafka(self, stopping: asyncio.Event) -> None:
        producer = self.producer
        assert producer is not None
        while not stopping.is_set():
            try:
                await within(producer.client.fetch_all_metadata(), KAFKA_CHECK_TIMEOUT_S)
                state = "ok"
            except Exception as exc:
                state = f"unavailable: {type(exc).__name__}"
            if state != self.kafka_state:
                if state == "ok":
                    log.info("kafka answers again at %s", self.settings.kafka_bootstrap)
                else:
                    log.warning("kafka does not answer (%s); writes wait in the outbox", state)
            self.kafka_state = state
            KAFKA_CONNECTED.set(1 if state == "ok" else 0)
            await sleep_or_stop(stopping, KAFKA_CHECK_S)

    async def _watch_outbox(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.relay.refresh_gauges()
            except Exception as exc:  # the database away: requests and consumers say so
                log.debug("outbox gauges not refreshed: %r", exc)
            await sleep_or_stop(stopping, self.relay.gauge_interval)

    def _spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        async def runner() -> None:
            await factory()

        self._tasks[name] = asyncio.create_task(runner(), name=f"sanpi-{name}")

    def _supervise(self, name: str, worker: Worker) -> None:
        """Runs `worker` until stopping; restarts it with backoff if it crashes."""

        async def loop() -> None:
            backoff = 0.5
            while not self.stopping.is_set():
                try:
                    await worker(self, self.stopping)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s crashed; restarting in %.1fs", name, backoff)
                    await sleep_or_stop(self.stopping, backoff)  # a stop waits for no backoff
                    backoff = min(backoff * 2, 30.0)

        self._tasks[name] = asyncio.create_task(loop(), name=f"sanpi-{name}")

    # --- Kafka I/O ------------------------------------------------------------------------------

    async def _send_batch(self, rows: list[PendingEvent]) -> None:
        producer = self.producer
        if producer is None:
            raise RuntimeError("Kafka producer not connected yet")
        # send() only enqueues; the futures resolve when the broker acknowledged (acks=all).
        # Sequential enqueueing keeps per-key order (aiokafka#528: concurrent sends wake quadratically).
        if tracing.ENABLED:
            await asyncio.gather(*await tracing.send_rows(producer, rows, encoded_headers))
            return
        futures = [
            await producer.send(
                row.topic,
                value=row.value,
                key=row.key.encode(),
                headers=encoded_headers(row.headers),
            )
            for row in rows
        ]
        await asyncio.gather(*futures)

    async def _dead_letter(self, record: Record, error: str, attempts: int) -> None:
        producer = self.producer
        if producer is None:
            raise RuntimeError("Kafka producer not connected yet")
        headers = [
            *(record.headers or ()),
            ("dlq_error", error[:2000].encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_consumer", self.settings.group_id.encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        dlq = dead_letter_topic(record.topic)
        # Same partition number as the source (both topics are created with the same count), so
        # that dead letters keep their order per source partition for a redrive.
        partitions = await producer.partitions_for(dlq)
        partition = record.partition if record.partition in partitions else None
        await producer.send_and_wait(
            dlq, value=record.value, key=record.key, headers=headers, partition=partition
        )
        DLQ_RECORDS.labels(record.topic).inc()
        log.error(
            "dead-lettered %s@%d/%d: %s", record.topic, record.partition, record.offset, error
        )

    def refuse_writes_if_backlogged(self) -> None:
        """Raises OutboxFull (503) once the outbox holds `outbox_max_backlog` unpublished events,
        as counted last (every few seconds): a write would only add to what waits for Kafka."""
        limit = self.settings.outbox_max_backlog
        if limit > 0 and self.relay.backlog >= limit:
            raise OutboxFull(self.relay.backlog, limit)

    # --- health ---------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, str]:
        """What /readyz reports: the database, which decides readiness, and Kafka as the
        service last saw it, which does not. Without Kafka a service still serves: its writes
        wait in the outbox. Were Kafka part of readiness, a broker outage would take every
        replica out of its load balancer and the API down with it, the outbox for nothing."""
        checks: dict[str, str] = {}
        try:
            await within(self.db.ping(), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if self.settings.kafka_enabled:
            checks["kafka"] = self.kafka_state
        return checks


# --- request dependencies ---------------------------------------------------------------------


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@asynccontextmanager
async def write_transaction(request: Request) -> AsyncIterator[UnitOfWork]:
    """The unit of work of a write request (refused with 503 while the outbox is backlogged):
    UnitOfWorkDep, or a route that opens it itself (a hot route without FastAPI's solver)."""
    runtime = get_runtime(request)
    runtime.refuse_writes_if_backlogged()
    async with runtime.db.transaction() as uow:
        yield uow


async def _transaction(request: Request) -> AsyncIterator[UnitOfWork]:
    async with write_transaction(request) as uow:
        yield uow


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).db.read() as session:
        yield session


# scope="function": the transaction commits when the route returns and before the response is
# sent, so a client never sees 201 for a write that then fails to commit.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(_transaction, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]


async def _runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hand-off per
    # request for an attribute read.
    return get_runtime(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def create_service_app(spec: ServiceSpec) -> FastAPI:
    """A FastAPI app with /healthz, /readyz, /metrics, problem+json errors and the service's routes."""
    runtime = Runtime(spec)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dump_stacks_on_signal(asyncio.get_running_loop())
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN: install_api_docs below.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    # One layer (kit/edge.py): security headers, CORS, body limit, log context, NUL guard, metrics.
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=spec.settings.max_body_bytes,
        body_limits=list(spec.body_limits),
        cors_origins=list(spec.settings.cors_origins),
    )
    install_api_docs(app)
    app.state.write_limiter = RateLimiter(
        per_s=spec.settings.rate_limit_writes_per_s, burst=spec.settings.rate_limit_writes_burst
    )

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.settings.SERVICE}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: the database answers (Kafka's state is reported, not required)",
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = checks["database"] == "ok"
        body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    for router in spec.routers:
        app.include_router(router, prefix="/v1")
    tracing.configure(spec.settings, app, engine=runtime.db.engine)
    return app
