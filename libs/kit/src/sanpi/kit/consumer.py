"""The consumer loop: decode, skip duplicates (inbox), apply in one transaction, dead-letter;
wait out the infrastructure (database, disk, broker) rather than blame a record for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from sanpi.events import CloudEvent, EventData, EventDecodeError, from_value, parse_data
from sanpi.kit import tracing
from sanpi.kit.db import Database
from sanpi.kit.dedup import processed_among, record_processed
from sanpi.kit.kafka import Backlog, group_backlog
from sanpi.kit.logs import bind_log_context, reset_log_context, trace_id_of
from sanpi.kit.metrics import (
    CONSUMER_BLOCKED,
    CONSUMER_BLOCKED_SECONDS,
    CONSUMER_LAG,
    CONSUMER_TRANSIENT_FAILURES,
    EVENTS_CONSUMED,
    EVENTS_FAILED,
)
from sanpi.kit.settings import ServiceSettings
from sanpi.kit.transient import Transient, transient_kind
from sanpi.kit.unit_of_work import UnitOfWork
from sanpi.kit.waiting import within

log = logging.getLogger("sanpi.consumer")

# The running consumers whose batches applied while catching up left work their `caught_up` has not done yet.
_LEAVING: weakref.WeakSet[EventConsumer] = weakref.WeakSet()

D = TypeVar("D", bound=EventData)

Handler = Callable[[UnitOfWork, CloudEvent, Any], Awaitable[None]]
# Runs once before the handlers of a batch, in its transaction, with the batch's event data.
Prepare = Callable[[UnitOfWork, Sequence[EventData]], Awaitable[None]]
# Runs once the consumer has caught up after batches applied while catching up.
# UnitOfWork.catching_up is True in the transactions of a consumer that is catching up (records
# known to wait after its fetched batch fill at least another transaction) and of the batch that
# ends it. Work such a transaction would wait for after its commit, once per batch, may be left
# durable for the handlers' `when_caught_up` hook: the consumer runs it after that last batch.
CaughtUp = Callable[[Database], Awaitable[None]]


def catching_up(db: Database) -> bool:
    """Whether a consumer of this process on `db` is catching up and has left work for its
    `caught_up` hook, which runs once it has caught up. A periodic sweep of that work (marks
    left durable) may wait for it: taken during a replay, the work is done early and again
    after (a project marked by its registration, swept, then marked by its listing)."""
    return any(consumer.db is db for consumer in _LEAVING)


# While the database or the broker is away the consumer tries again after these waits, doubling
# from the first to the last, for as long as it takes: an outage of seconds costs at most a few
# seconds more, one of hours a try every 10 s. Said in the log at most this often.
BLOCKED_FIRST_WAIT_S = 0.5
BLOCKED_LAST_WAIT_S = 10.0
BLOCKED_LOG_EVERY_S = 30.0

_WAITING_FOR = {
    Transient.DATABASE: "the database is unavailable",
    Transient.LOCKED: "the database is locked by another process",
    Transient.DISK_FULL: "the disk is full",
    Transient.BROKER: "Kafka does not take the dead letter",
}


def record_log_context(event: CloudEvent, data: EventData) -> dict[str, str]:
    """What the logs of a record's handler say it is about: the event, its project, and the
    trace of its CloudEvents `traceparent` extension when it has one."""
    fields = {"event_id": event.id, "event_type": event.type}
    project_id = getattr(data, "project_id", None)
    if project_id is not None:
        fields["project_id"] = project_id
    trace_id = trace_id_of(tracing.event_traceparent(event))
    if trace_id is not None:
        fields["trace_id"] = trace_id
    return fields


class ConsumerStalled(Exception):
    """The consumer made no progress although records were waiting; it is replaced."""


class ConsumerStopping(Exception):
    """The consumer was asked to stop while it waited for the infrastructure; what it had not
    applied is not committed."""


class Outcome(StrEnum):
    PROCESSED = "processed"  # the handler's effect and the inbox row committed
    DUPLICATE = "duplicate"  # already in the inbox: nothing done
    IGNORED = "ignored"  # a valid event this service has no handler for
    DEAD_LETTERED = "dead_lettered"  # undecodable, unknown type, or the handler kept failing


class Record(Protocol):
    """The parts of an aiokafka ConsumerRecord the loop reads."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


DeadLetter = Callable[[Record, str, int], Awaitable[None]]


class Handlers(Generic[D]):
    """Event type → handler. Register with `@handlers.on(ProjectRegistered)`."""

    def __init__(self) -> None:
        self._by_type: dict[str, Handler] = {}
        self.prepare: Prepare | None = None
        self.caught_up: CaughtUp | None = None

    def on(
        self, model: type[D]
    ) -> Callable[
        [Callable[[UnitOfWork, CloudEvent, D], Awaitable[None]]],
        Callable[[UnitOfWork, CloudEvent, D], Awaitable[None]],
    ]:
        def register(
            fn: Callable[[UnitOfWork, CloudEvent, D], Awaitable[None]],
        ) -> Callable[[UnitOfWork, CloudEvent, D], Awaitable[None]]:
            self._by_type[model.TYPE] = fn
            return fn

        return register

    def before_batch(self, fn: Prepare) -> Prepare:
        """Registers what runs once before the handlers of a batch of records, in the same
        transaction: loading what the batch's handlers will look up in one query each, instead
        of one lookup per event. Only an optimisation: handlers must be right without it, as a
        record applied alone (a retry, a batch of one) goes without."""
        self.prepare = fn
        return fn

    def when_caught_up(self, fn: CaughtUp) -> CaughtUp:
        """Registers what the consumer runs once it has caught up, when batches were applied
        while catching up (their units of work were `catching_up`): the work they left."""
        self.caught_up = fn
        return fn

    def get(self, event_type: str) -> Handler | None:
        return self._by_type.get(event_type)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_type)

    def as_mapping(self) -> Mapping[str, Handler]:
        return dict(self._by_type)


class EventConsumer:
    """Applies each record exactly once in effect: at-least-once delivery + inbox de-duplication."""

    def __init__(
        self,
        *,
        db: Database,
        settings: ServiceSettings,
        topics: Sequence[str],
        handlers: Mapping[str, Handler],
        dead_letter: DeadLetter,
        prepare: Prepare | None = None,
        caught_up: CaughtUp | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.prepare = prepare
        self.caught_up = caught_up
        # Batches were applied while catching up since `caught_up` last ran.
        self._left_behind = False
        self.dead_letter = dead_letter
        self.name = settings.group_id
        self.assigned = asyncio.Event()
        self._progress_at = 0.0
        # The next offset to process per partition, as this consumer knows it. aiokafka's
        # position() may wait for good when the consumer is wedged after a broker restart (seen
        # in a fault test: lag bookkeeping and watchdog both hung in it), so we keep our own.
        self._next: dict[TopicPartition, int] = {}
        # Partitions with records waiting that this consumer does not hold, and where the group
        # stood on them, as the watchdog last saw them.
        self._unowned: dict[TopicPartition, int] = {}
        # Waiting for the infrastructure: since when (loop time), the next wait, the last log.
        self._blocked_since: float | None = None
        self._blocked_wait = BLOCKED_FIRST_WAIT_S
        self._blocked_said = 0.0
        # Set by `run`: how a wait keeps the group membership (polling paused partitions), and
        # what ends it early.
        self._idle: Callable[[float], Awaitable[None]] | None = None
        self._stopping: asyncio.Event | None = None
        CONSUMER_BLOCKED.set(0)
        for kind in Transient:  # every series from 0, so that rate() sees the first failure
            CONSUMER_TRANSIENT_FAILURES.labels(kind)

    @property
    def blocked(self) -> bool:
        """Whether the consumer is waiting for its database or the broker to come back."""
        return self._blocked_since is not None

    async def process(self, record: Record, *, catching_up: bool = False) -> Outcome:
        """Handles one record. What cannot be applied goes to the dead-letter topic: bad bytes
        and unknown types at once, a handler's error once it failed `consumer_max_attempts`
        times while the database answered. A failure of the infrastructure (the database away
        or locked, the disk full, the broker not taking a dead letter) counts as no attempt:
        the consumer waits and tries again for as long as it takes. Raises only
        ConsumerStopping, when asked to stop during such a wait."""
        try:
            event = from_value(record.value)
            data = parse_data(event)
        except EventDecodeError as exc:
            # Retrying cannot make bad bytes good: dead-letter at once.
            await self._park(record, str(exc), 1)
            # Not the header's type as a label: a poison record could carry any string there.
            EVENTS_CONSUMED.labels(record.topic, "invalid", Outcome.DEAD_LETTERED).inc()
            return Outcome.DEAD_LETTERED

        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(record.topic, event.type, Outcome.IGNORED).inc()
            return Outcome.IGNORED

        attempts = self.settings.consumer_max_attempts
        attempt = 0
        last_error = ""
        while attempt < attempts:
            try:
                async with self.db.transaction() as uow:
                    uow.catching_up = catching_up
                    seen = await processed_among(uow.session, self.name, [event])
                    outcome = await self._apply(uow, event, data, handler, seen)
            except Exception as exc:
                outage = await self._outage(exc)
                if outage is not None:
                    await self._wait_out(outage, exc)
                    continue
                attempt += 1
                EVENTS_FAILED.labels(record.topic, event.type).inc()
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "%s %s@%s/%s attempt %d/%d failed: %s",
                    event.type,
                    record.topic,
                    record.partition,
                    record.offset,
                    attempt,
                    attempts,
                    last_error,
                )
                if attempt < attempts:
                    await asyncio.sleep(
                        self.settings.consumer_backoff_ms / 1000 * 2 ** (attempt - 1)
                    )
                continue
            self._unblocked()
            EVENTS_CONSUMED.labels(record.topic, event.type, outcome).inc()
            return outcome
        await self._park(record, last_error, attempts)
        EVENTS_CONSUMED.labels(record.topic, event.type, Outcome.DEAD_LETTERED).inc()
        return Outcome.DEAD_LETTERED

    async def _outage(self, exc: Exception) -> Transient | None:
        """Whether `exc` is the infrastructure's doing: by what it says, else by pinging the
        database (a handler's error that repeats while the database answers is the record's;
        one while it does not is not)."""
        kind = transient_kind(exc)
        if kind is not None:
            return kind
        try:
            # Bounded: on SQLite the ping may wait the busy timeout for the write lock.
            await within(self.db.ping(), self.settings.database_busy_timeout_ms / 1000 + 5)
        except Exception as probe_error:
            return transient_kind(probe_error) or Transient.DATABASE
        return None

    async def _wait_out(self, kind: Transient, exc: BaseException) -> None:
        """Waits before the caller tries again what failed on the infrastructure. Consumption
        is paused meanwhile (the batch in hand waits, nothing after it is fetched or committed)
        and the watchdog knows it (`blocked`)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        CONSUMER_TRANSIENT_FAILURES.labels(kind).inc()
        if self._blocked_since is None:
            self._blocked_since = self._blocked_said = started
            self._blocked_wait = BLOCKED_FIRST_WAIT_S
            CONSUMER_BLOCKED.set(1)
            log.warning(
                "%s: %s (%s: %s); consumption paused, trying again until it is back",
                self.name,
                _WAITING_FOR[kind],
                type(exc).__name__,
                str(exc)[:300],
            )
        elif started - self._blocked_said >= BLOCKED_LOG_EVERY_S:
            self._blocked_said = started
            log.warning(
                "%s: %s; still waiting after %.0f s (%s)",
                self.name,
                _WAITING_FOR[kind],
                started - self._blocked_since,
                type(exc).__name__,
            )
        wait = self._blocked_wait
        self._blocked_wait = min(wait * 2, BLOCKED_LAST_WAIT_S)
        if self._stopping is None or not self._stopping.is_set():
            await (self._idle or asyncio.sleep)(wait)
        CONSUMER_BLOCKED_SECONDS.inc(loop.time() - started)
        if self._stopping is not None and self._stopping.is_set():
            raise ConsumerStopping(f"{self.name}: stopped while waiting for the infrastructure")

    def _unblocked(self) -> None:
        if self._blocked_since is None:
            return
        now = asyncio.get_running_loop().time()
        log.info(
            "%s: consuming again after %.1f s of waiting", self.name, now - self._blocked_since
        )
        self._blocked_since = None
        CONSUMER_BLOCKED.set(0)
        self._progress_at = now  # the watchdog's clock starts again now

    async def _park(self, record: Record, error: str, attempts: int) -> None:
        """Sends a record to its dead-letter topic, again and again while that fails: a record
        neither applied nor dead-lettered must keep its offset uncommitted."""
        while True:
            try:
                await self.dead_letter(record, error, attempts)
            except Exception as exc:
                await self._wait_out(transient_kind(exc) or Transient.BROKER, exc)
                continue
            self._unblocked()
            return

    async def _apply(
        self,
        uow: UnitOfWork,
        event: CloudEvent,
        data: EventData,
        handler: Handler,
        seen: set[tuple[str, str]],
    ) -> Outcome:
        """The handler's effect and the inbox row, in the caller's transaction; an event in
        `seen` (the inbox's, plus those applied earlier in this transaction) is a no-op."""
        if (event.source, event.id) in seen:
            return Outcome.DUPLICATE
        context = bind_log_context(record_log_context(event, data))
        try:
            if tracing.ENABLED:
                with tracing.handling(event, self.name):
                    await handler(uow, event, data)
            else:
                await handler(uow, event, data)
        finally:
            reset_log_context(context)
        record_processed(uow, self.name, event)
        seen.add((event.source, event.id))
        return Outcome.PROCESSED

    async def process_many(self, records: Sequence[Record], *, catching_up: bool = False) -> None:
        """Applies records (each partition's in their order) in ONE transaction; if any of them
        fails, the transaction is rolled back and the records are applied one at a time
        (`process`), so a bad record still retries and dead-letters alone.

        Why: under load a service spent most of an event's time waiting to take the database's
        write lock and opening and committing a transaction, not in the handler; one
        transaction per fetched batch pays that once."""
        if len(records) == 1:
            await self.process(records[0], catching_up=catching_up)
            return
        try:
            prepared = [(r, from_value(r.value)) for r in records]
            parsed = [(r, event, parse_data(event)) for r, event in prepared]
        except EventDecodeError:
            for record in records:
                await self.process(record, catching_up=catching_up)
            return
        while True:
            outcomes: list[tuple[Record, CloudEvent, Outcome]] = []
            try:
                async with self.db.transaction() as uow:
                    uow.catching_up = catching_up
                    # One de-duplication query for the batch, not one per record.
                    seen = await processed_among(
                        uow.session, self.name, [e for _r, e, _d in parsed]
                    )
                    if self.prepare is not None:
                        fresh = [d for _r, e, d in parsed if (e.source, e.id) not in seen]
                        await self.prepare(uow, fresh)
                    for record, event, data in parsed:
                        handler = self.handlers.get(event.type)
                        outcome = (
                            Outcome.IGNORED
                            if handler is None
                            else await self._apply(uow, event, data, handler, seen)
                        )
                        outcomes.append((record, event, outcome))
            except Exception as exc:
                outage = await self._outage(exc)
                if outage is not None:
                    await self._wait_out(outage, exc)
                    continue  # the whole batch again, once the database is back
                log.info(
                    "a batch of %d records failed together (%s: %s); applying them one at a time",
                    len(records),
                    type(exc).__name__,
                    exc,
                )
                for record in records:
                    await self.process(record, catching_up=catching_up)
                return
            break
        self._unblocked()
        for record, event, outcome in outcomes:
            EVENTS_CONSUMED.labels(record.topic, event.type, outcome).inc()

    async def run(self, stopping: asyncio.Event) -> None:
        """Consumes until `stopping` is set, committing offsets once per fetched batch. A watchdog
        replaces a consumer that stopped making progress while records wait (ConsumerStalled:
        the supervisor starts a fresh one; the inbox makes the redelivery harmless)."""
        self._next.clear()  # a fresh consumer starts from the committed offsets
        self._unowned = {}
        self._stopping = stopping
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.name,
            client_id=f"{self.name}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # An idle fetch waits at most 100 ms for data: keeps end-to-end latency low.
            fetch_max_wait_ms=100,
            max_poll_records=500,
        )
        consumer.subscribe(self.topics, listener=_ForgetRevoked(self._next))
        await consumer.start()
        self._progress_at = asyncio.get_running_loop().time()
        consuming = asyncio.create_task(self._consume(consumer, stopping))
        watching = asyncio.create_task(self._watch(consumer, stopping))
        try:
            await asyncio.wait({consuming, watching}, return_when=asyncio.FIRST_COMPLETED)
            if watching.done() and watching.exception() is not None:
                # Said now: stopping the stalled consumer below may take its bound in full.
                log.warning("%s; replacing the consumer", watching.exception())
                consuming.cancel()  # stalled: the stuck fetch is abandoned, not awaited
                await asyncio.gather(consuming, return_exceptions=True)
                watching.result()  # raises ConsumerStalled
            # A normal stop: the batch in hand is finished and its offsets committed.
            await consuming
        finally:
            # Stopped, it catches up no more: the sweep takes what it left meanwhile (a next
            # run still runs `caught_up` once it has caught up).
            _LEAVING.discard(self)
            watching.cancel()
            consuming.cancel()
            await asyncio.gather(watching, consuming, return_exceptions=True)
            await self._stop(consumer)

    async def _stop(self, consumer: AIOKafkaConsumer) -> None:
        """consumer.stop(), bounded. It waits for the group coordination task, and a consumer
        the watchdog replaces may be stuck right there: unbounded, the replacement would wait
        with it for good (make test: a service consumed nothing for 10 minutes after a broker
        restart and never logged the watchdog). Abandoned, its member leaves the group when
        the broker stops hearing from it."""
        try:
            await within(consumer.stop(), self.settings.consumer_stop_s)
        except TimeoutError:
            log.warning(
                "%s: the consumer did not stop within %.0f s; abandoned",
                self.name,
                self.settings.consumer_stop_s,
            )

    async def _consume(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        async def idle(seconds: float) -> None:
            await self._idle_paused(consumer, stopping, seconds)

        self._idle = idle
        try:
            await self._consume_until(consumer, stopping)
        except ConsumerStopping as exc:
            # The batch in hand was not all applied: its offsets are not committed, the next
            # consumer of its partitions starts from them (the inbox skips what was applied).
            log.info("%s", exc)
        finally:
            self._idle = None

    async def _idle_paused(
        self, consumer: AIOKafkaConsumer, stopping: asyncio.Event, seconds: float
    ) -> None:
        """Waits `seconds` (less when stopping) with every partition paused, polling meanwhile:
        a consumer that polls nothing for max_poll_interval_ms (5 minutes) is dropped from the
        group, and a long outage would end in a rebalance on top of it."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        consumer.pause(*consumer.assignment())
        try:
            while not stopping.is_set() and (left := until - loop.time()) > 0:
                fetched = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000) or 1)
                for tp, records in fetched.items():
                    # Assigned by a rebalance meanwhile, so not paused yet: read it again later.
                    consumer.seek(tp, records[0].offset)
                    consumer.pause(tp)
        finally:
            consumer.resume(*consumer.assignment())

    async def _consume_until(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            if consumer.assignment():
                self.assigned.set()
            if not batch:
                await self.apply_fetched({}, waiting=0)  # caught up: what was left runs now
                await self._record_lag(consumer)
                continue
            batch = await self._linger(consumer, batch)
            waiting = _waiting_after(consumer, batch, self._next)
            offsets = await self.apply_fetched(batch, waiting=waiting)
            try:
                # One commit per batch: a commit costs a round trip (~ms to 250 ms).
                await consumer.commit(offsets)
            except KafkaError as exc:
                # A rebalance took the partitions away; the next owner re-reads the records
                # and the inbox turns them into no-ops.
                log.warning("offset commit failed (%s); records will be redelivered", exc)
            await self._record_lag(consumer)

    async def apply_fetched(
        self, batch: Mapping[TopicPartition, Sequence[Record]], *, waiting: int
    ) -> dict[TopicPartition, int]:
        """Applies a fetched batch, up to `consumer_transaction_records` records per transaction
        (of any of its partitions, each partition's in order); returns the offsets to commit.
        `waiting`: the records known to wait after this batch (the fetch responses' high-water
        marks).

        The one place that decides whether a batch's transactions wait for their work after
        commit (rule evaluation) or leave it: while at least another full transaction waits,
        the consumer is catching up (a backlog, a replay) and its units of work are
        `catching_up`; so does the batch that ends it, which then runs `caught_up` once for all
        they left. A replay then evaluates a project once, not once per batch it appears in."""
        size = self.settings.consumer_transaction_records
        catching_up = self.caught_up is not None and waiting >= size
        leave = catching_up or self._left_behind
        # Partition by partition, each in its order: one transaction may hold records of several
        # partitions (their relative order was never defined).
        records = [r for rs in batch.values() for r in rs]
        offsets: dict[TopicPartition, int] = {}
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            await self.process_many(chunk, catching_up=leave)
            done = {TopicPartition(r.topic, r.partition): r.offset + 1 for r in chunk}
            offsets.update(done)
            self._next.update(done)
            self._progress_at = asyncio.get_running_loop().time()
        if catching_up:
            self._left_behind = True
            _LEAVING.add(self)
        elif self._left_behind and self.caught_up is not None:
            self._left_behind = False
            try:
                await self.caught_up(self.db)
            except Exception:  # what was left stays durable (the service's sweep retries)
                log.exception("%s: the work left while catching up failed", self.name)
            finally:
                # Only now: a sweep meanwhile would take the same work (a replay's 20,000
                # projects take ~10 s to evaluate, and sweeping them too evaluated ~11,000 twice).
                _LEAVING.discard(self)
            self._progress_at = asyncio.get_running_loop().time()
        return offsets

    async def _linger(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[Any]]
    ) -> dict[TopicPartition, list[Any]]:
        """A fetch smaller than a transaction's worth, plus what arrived within
        `consumer_linger_ms` after it. At a live rate a fetch holds about one record and a
        transaction of one pays its commit, inbox query and the handlers' per-batch work in full;
        a backlog fills the transaction at once and does not wait. The fetcher keeps fetching in
        the background meanwhile, so the wait is all a lone event pays."""
        size = self.settings.consumer_transaction_records
        count = sum(len(rs) for rs in batch.values())
        if self.settings.consumer_linger_ms <= 0 or count >= size:
            return batch
        await asyncio.sleep(self.settings.consumer_linger_ms / 1000)
        more = await consumer.getmany(timeout_ms=0, max_records=size - count)
        for tp, rs in more.items():
            batch[tp] = [*batch.get(tp, ()), *rs]
        return batch

    async def _watch(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        """Returns by raising ConsumerStalled when no record was processed for `consumer_stall_s`
        although records wait. Seen with aiokafka after a broker restart: the consumer stays
        connected and silent for good (aiokafka#399 and its kin), holding its partitions or
        none, and its own client may answer nothing either. So the broker is asked by clients of
        the watchdog's own (`group_backlog`), never by the consumer's."""
        loop = asyncio.get_running_loop()
        stall_s = self.settings.consumer_stall_s
        unreachable = False
        while not stopping.is_set():
            await asyncio.sleep(min(5.0, stall_s / 4))
            if self.blocked:
                # Waiting for the database or the broker: a fresh consumer would wait the same.
                continue
            if loop.time() - self._progress_at < stall_s:
                continue
            backlog = await group_backlog(self.settings.kafka_bootstrap, self.name, self.topics)
            if backlog is None:
                # With the broker away nobody could consume: not a stall a fresh consumer cures.
                if not unreachable:
                    log.warning("%s: stall check skipped, the broker does not answer", self.name)
                unreachable = True
                continue
            unreachable = False
            self._check_backlog(backlog, consumer.assignment())  # raises ConsumerStalled
            self._progress_at = loop.time()

    def _check_backlog(
        self, backlog: Mapping[TopicPartition, Backlog], held: Iterable[TopicPartition]
    ) -> None:
        """Raises ConsumerStalled, `consumer_stall_s` after the last record processed here, when
        records wait on a partition this consumer holds, or wait on partitions the group's
        committed offsets of which stood still since the last check (no member consumes them:
        after a broker restart a consumer that lost its coordinator never rejoined and held
        nothing). An idle extra replica is left alone: the others move the offsets on."""
        # Our own next offset is ahead of the committed one when a commit failed.
        standing = {tp: max(b.committed, self._next.get(tp, 0)) for tp, b in backlog.items()}
        waiting = {tp: standing[tp] for tp, b in backlog.items() if b.end > standing[tp]}
        held = set(held)
        mine = [tp for tp in waiting if tp in held]
        if mine:
            count = sum(backlog[tp].end - waiting[tp] for tp in mine)
            raise ConsumerStalled(
                f"{self.name}: no record processed for "
                f"{self.settings.consumer_stall_s:.0f} s while {count} wait"
            )
        if waiting and waiting == self._unowned:
            count = sum(backlog[tp].end - waiting[tp] for tp in waiting)
            where = "holds no partition" if not held else "holds none of their partitions"
            raise ConsumerStalled(f"{self.name}: {where} while {count} records wait unconsumed")
        self._unowned = waiting

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        # The high-water mark is local (the last fetch response). A partition processed here has
        # our own next offset; one assigned but idle since the start asks aiokafka once, bounded
        # (position() can wait for good on a wedged consumer), so that every assigned partition
        # reports its lag, 0 included.
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            if tp not in self._next:
                try:
                    self._next[tp] = await within(consumer.position(tp), 0.5)
                except (TimeoutError, KafkaError):
                    continue
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - self._next[tp]))


def _waiting_after(
    consumer: AIOKafkaConsumer,
    batch: Mapping[TopicPartition, Sequence[Record]],
    next_offsets: Mapping[TopicPartition, int],
) -> int:
    """Records of the assigned partitions known to wait once `batch` is applied: the high-water
    mark of each partition's last fetch response less the offset after its batch, or after the
    last record processed here (a partition never processed here counts none)."""
    waiting = 0
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        records = batch.get(tp)
        position = records[-1].offset + 1 if records else next_offsets.get(tp)
        if highwater is not None and position is not None:
            waiting += max(0, highwater - position)
    return waiting


class _ForgetRevoked(ConsumerRebalanceListener):  # type: ignore[misc]
    """Drops what we knew of partitions a rebalance took away: another member moves them on, so
    our next offset for them goes stale (a stale one would read as lag, and as a stall)."""

    def __init__(self, next_offsets: dict[TopicPartition, int]) -> None:
        self._next = next_offsets

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        for tp in revoked:
            self._next.pop(tp, None)
            with contextlib.suppress(KeyError):  # KeyError: never reported
                CONSUMER_LAG.remove(tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        pass
