"""The consumer loop: decode, skip duplicates (inbox), apply in one transaction, dead-letter poison."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, EventData, EventDecodeError, from_value, parse_data
from sanpi.kit.db import Database
from sanpi.kit.inbox import processed_among, record_processed
from sanpi.kit.metrics import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_FAILED
from sanpi.kit.settings import ServiceSettings

log = logging.getLogger("sanpi.consumer")

D = TypeVar("D", bound=EventData)

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]
# Runs once before the handlers of a batch, in its transaction, with the batch's event data.
Prepare = Callable[[AsyncSession, Sequence[EventData]], Awaitable[None]]


class ConsumerStalled(Exception):
    """The consumer made no progress although records were waiting; it is replaced."""


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

    def on(
        self, model: type[D]
    ) -> Callable[
        [Callable[[AsyncSession, CloudEvent, D], Awaitable[None]]],
        Callable[[AsyncSession, CloudEvent, D], Awaitable[None]],
    ]:
        def register(
            fn: Callable[[AsyncSession, CloudEvent, D], Awaitable[None]],
        ) -> Callable[[AsyncSession, CloudEvent, D], Awaitable[None]]:
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
    ) -> None:
        self.db = db
        self.settings = settings
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.prepare = prepare
        self.dead_letter = dead_letter
        self.name = settings.group_id
        self.assigned = asyncio.Event()
        self._progress_at = 0.0
        # The next offset to process per partition, as this consumer knows it. aiokafka's
        # position() may wait for good when the consumer is wedged after a broker restart (seen
        # in a fault test: lag bookkeeping and watchdog both hung in it), so we keep our own.
        self._next: dict[TopicPartition, int] = {}
        # While holding no partition: the group's committed offsets of partitions with records
        # waiting, as the watchdog last saw them.
        self._unowned: dict[TopicPartition, int] = {}

    async def process(self, record: Record) -> Outcome:
        """Handles one record. Never raises: what cannot be applied goes to the dead-letter topic."""
        try:
            event = from_value(record.value)
            data = parse_data(event)
        except EventDecodeError as exc:
            # Retrying cannot make bad bytes good: dead-letter at once.
            await self.dead_letter(record, str(exc), 1)
            # Not the header's type as a label: a poison record could carry any string there.
            EVENTS_CONSUMED.labels(record.topic, "invalid", Outcome.DEAD_LETTERED).inc()
            return Outcome.DEAD_LETTERED

        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(record.topic, event.type, Outcome.IGNORED).inc()
            return Outcome.IGNORED

        attempts = self.settings.consumer_max_attempts
        last_error = ""
        for attempt in range(1, attempts + 1):
            try:
                async with self.db.transaction() as session:
                    seen = await processed_among(session, self.name, [event])
                    outcome = await self._apply(session, event, data, handler, seen)
                EVENTS_CONSUMED.labels(record.topic, event.type, outcome).inc()
                return outcome
            except Exception as exc:
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
        await self.dead_letter(record, last_error, attempts)
        EVENTS_CONSUMED.labels(record.topic, event.type, Outcome.DEAD_LETTERED).inc()
        return Outcome.DEAD_LETTERED

    async def _apply(
        self,
        session: AsyncSession,
        event: CloudEvent,
        data: EventData,
        handler: Handler,
        seen: set[tuple[str, str]],
    ) -> Outcome:
        """The handler's effect and the inbox row, in the caller's transaction; an event in
        `seen` (the inbox's, plus those applied earlier in this transaction) is a no-op."""
        if (event.source, event.id) in seen:
            return Outcome.DUPLICATE
        await handler(session, event, data)
        record_processed(session, self.name, event)
        seen.add((event.source, event.id))
        return Outcome.PROCESSED

    async def process_many(self, records: Sequence[Record]) -> None:
        """Applies records (each partition's in their order) in ONE transaction; if any of them fails,
        the transaction is rolled back and the records are applied one at a time (`process`),
        so a bad record still retries and dead-letters alone.

        Why: under load a service spent most of an event's time waiting to take the database's
        write lock and opening and committing a transaction, not in the handler; one
        transaction per fetched batch pays that once."""
        if len(records) == 1:
            await self.process(records[0])
            return
        try:
            prepared = [(r, from_value(r.value)) for r in records]
            parsed = [(r, event, parse_data(event)) for r, event in prepared]
        except EventDecodeError:
            for record in records:
                await self.process(record)
            return
        outcomes: list[tuple[Record, CloudEvent, Outcome]] = []
        try:
            async with self.db.transaction() as session:
                # One inbox query for the batch, not one per record.
                seen = await processed_among(session, self.name, [e for _r, e, _d in parsed])
                if self.prepare is not None:
                    fresh = [d for _r, e, d in parsed if (e.source, e.id) not in seen]
                    await self.prepare(session, fresh)
                for record, event, data in parsed:
                    handler = self.handlers.get(event.type)
                    outcome = (
                        Outcome.IGNORED
                        if handler is None
                        else await self._apply(session, event, data, handler, seen)
                    )
                    outcomes.append((record, event, outcome))
        except Exception as exc:
            log.info(
                "a batch of %d records failed together (%s: %s); applying them one at a time",
                len(records),
                type(exc).__name__,
                exc,
            )
            for record in records:
                await self.process(record)
            return
        for record, event, outcome in outcomes:
            EVENTS_CONSUMED.labels(record.topic, event.type, outcome).inc()

    async def run(self, stopping: asyncio.Event) -> None:
        """Consumes until `stopping` is set, committing offsets once per fetched batch. A watchdog
        replaces a consumer that stopped making progress while records wait (ConsumerStalled:
        the supervisor starts a fresh one; the inbox makes the redelivery harmless)."""
        self._next.clear()  # a fresh consumer starts from the committed offsets
        self._unowned = {}
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
                consuming.cancel()  # stalled: the stuck fetch is abandoned, not awaited
                await asyncio.gather(consuming, return_exceptions=True)
                watching.result()  # raises ConsumerStalled
            # A normal stop: the batch in hand is finished and its offsets committed.
            await consuming
        finally:
            watching.cancel()
            consuming.cancel()
            await asyncio.gather(watching, consuming, return_exceptions=True)
            await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            if consumer.assignment():
                self.assigned.set()
            if not batch:
                await self._record_lag(consumer)
                continue
            # Partition by partition, each in its order: one transaction may hold records of
            # several partitions (their relative order was never defined).
            records = [r for rs in (await self._linger(consumer, batch)).values() for r in rs]
            offsets: dict[TopicPartition, int] = {}
            size = self.settings.consumer_transaction_records
            for start in range(0, len(records), size):
                chunk = records[start : start + size]
                await self.process_many(chunk)
                done = {TopicPartition(r.topic, r.partition): r.offset + 1 for r in chunk}
                offsets.update(done)
                self._next.update(done)
                self._progress_at = asyncio.get_running_loop().time()
            try:
                # One commit per batch: a commit costs a round trip (~ms to 250 ms).
                await consumer.commit(offsets)
            except KafkaError as exc:
                # A rebalance took the partitions away; the next owner re-reads the records
                # and the inbox turns them into no-ops.
                log.warning("offset commit failed (%s); records will be redelivered", exc)
            await self._record_lag(consumer)

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
        although the broker says records are waiting. Seen with aiokafka after a broker restart:
        the consumer stays connected and silent for good (aiokafka#399 and its kin)."""
        loop = asyncio.get_running_loop()
        stall_s = self.settings.consumer_stall_s
        while not stopping.is_set():
            await asyncio.sleep(min(5.0, stall_s / 4))
            if loop.time() - self._progress_at < stall_s:
                continue
            partitions = list(consumer.assignment())
            if not partitions:
                await self._check_group(consumer)  # raises ConsumerStalled
                self._progress_at = loop.time()
                continue
            ends = await _end_offsets(consumer, partitions)
            if ends is None:
                continue
            try:
                positions = await asyncio.wait_for(self._positions(consumer, partitions), 10)
            except TimeoutError:
                # The broker answers, but the consumer cannot even say where it stands.
                raise ConsumerStalled(f"{self.name}: no position after a broker answer") from None
            waiting = sum(max(0, ends[tp] - positions[tp]) for tp in partitions)
            if waiting == 0:
                self._progress_at = loop.time()  # idle, not stuck
                continue
            raise ConsumerStalled(
                f"{self.name}: no record processed for {stall_s:.0f} s while {waiting} wait"
            )

    async def _check_group(self, consumer: AIOKafkaConsumer) -> None:
        """For a consumer holding no partition: raises ConsumerStalled when records wait that no
        member of the group consumes (the group's committed offsets of those partitions stood
        still since the last check, `consumer_stall_s` ago), or when the group coordinator does
        not answer while the broker does. Seen after a broker restart: a consumer that lost its
        coordinator never rejoined and held nothing, so "nothing waiting for me" hid the stall.
        An idle extra replica (more replicas than partitions) is left alone: the others move
        the committed offsets on."""
        topics = [(t, consumer.partitions_for_topic(t) or set()) for t in self.topics]
        every = [TopicPartition(t, p) for t, ps in topics for p in sorted(ps)]
        ends = await _end_offsets(consumer, every)
        if ends is None:
            return
        try:
            committed = {
                tp: await asyncio.wait_for(consumer.committed(tp), timeout=10) or 0 for tp in every
            }
        except (TimeoutError, KafkaError):
            raise ConsumerStalled(
                f"{self.name}: holds no partition and cannot reach the group coordinator"
            ) from None
        waiting = {tp: committed[tp] for tp in every if ends[tp] > committed[tp]}
        if waiting and waiting == self._unowned:
            raise ConsumerStalled(
                f"{self.name}: holds no partition while "
                f"{sum(ends[tp] - waiting[tp] for tp in waiting)} records wait unconsumed"
            )
        self._unowned = waiting

    async def _positions(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Our own next offsets; aiokafka's position only for a partition not processed yet."""
        return {
            tp: self._next[tp] if tp in self._next else await consumer.position(tp)
            for tp in partitions
        }

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
                    self._next[tp] = await asyncio.wait_for(consumer.position(tp), timeout=0.5)
                except (TimeoutError, KafkaError):
                    continue
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - self._next[tp]))


async def _end_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int] | None:
    """The broker's end offsets, or None when it does not answer within 10 s: with the broker
    away nobody could consume, so the watchdog skips its check rather than call it a stall."""
    try:
        ends: dict[TopicPartition, int] = await asyncio.wait_for(
            consumer.end_offsets(partitions), timeout=10
        )
    except Exception as exc:
        log.debug("stall check skipped: %s", exc)
        return None
    return ends


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
