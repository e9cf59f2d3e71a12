"""The consumer's per-record logic against a real SQLite database: inbox, retries, dead letters."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import event as sa_event
from sqlmodel import select

from sanpi.events import CloudEvent, EventData, ProjectRegistered, Stage, build_record
from sanpi.kit import (
    KIT_TABLES,
    Database,
    EventConsumer,
    Handlers,
    Outcome,
    ServiceSettings,
    Slot,
    UnitOfWork,
    utcnow,
)
from sanpi.kit import consumer as consumer_module
from sanpi.kit.consumer import ConsumerStalled, ConsumerStopping, Record, catching_up
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.kafka import Backlog
from sanpi.milestone.lifecycle.models import TrackedProject

REGISTERED = "sanpi.project.registered.v1"


@dataclass
class FakeRecord:
    value: bytes | None
    topic: str = "sanpi.projects"
    partition: int = 0
    offset: int = 0
    key: bytes | None = b"p-1"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class DeadLetters:
    records: list[tuple[Record, str, int]] = field(default_factory=list)

    async def __call__(self, record: Record, error: str, attempts: int) -> None:
        self.records.append((record, error, attempts))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.create_all([*KIT_TABLES, TrackedProject])
    yield database
    await database.dispose()


def registration(project_id: str = "p-1") -> bytes:
    data = ProjectRegistered(
        project_id=project_id,
        version=1,
        name="清智机器人创新中心",
        park="枫杨",
        total_investment=30_000,
        stage=Stage.SIGNED,
        planned_start_date=dt.date(2023, 6, 1),
    )
    return build_record(data, source="/sanpi/registry")[1].value


def make_consumer(db: Database, handlers: Handlers[Any], dead: DeadLetters) -> EventConsumer:
    settings = ServiceSettings(consumer_max_attempts=3, consumer_backoff_ms=1)
    return EventConsumer(
        db=db,
        settings=settings,
        topics=["sanpi.projects"],
        handlers=handlers.as_mapping(),
        dead_letter=dead,
    )


def tracking_handlers(calls: list[str]) -> Handlers[Any]:
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def track(uow: UnitOfWork, _event: CloudEvent, data: ProjectRegistered) -> None:
        calls.append(data.project_id)
        uow.session.add(
            TrackedProject(
                project_id=data.project_id,
                name=data.name,
                park=data.park,
                total_investment=data.total_investment,
                stage=data.stage,
                registered_on=dt.date(2023, 1, 28),
                stage_since=dt.date(2023, 1, 28),
            )
        )

    return handlers


async def test_a_redelivered_event_is_applied_once(db: Database) -> None:
    calls: list[str] = []
    dead = DeadLetters()
    consumer = make_consumer(db, tracking_handlers(calls), dead)
    value = registration()
    assert await consumer.process(FakeRecord(value, offset=1)) is Outcome.PROCESSED
    assert await consumer.process(FakeRecord(value, offset=1)) is Outcome.DUPLICATE
    assert await consumer.process(FakeRecord(value, offset=9)) is Outcome.DUPLICATE
    assert calls == ["p-1"]
    async with db.read() as session:
        assert len((await session.exec(select(TrackedProject))).all()) == 1
    assert dead.records == []


async def test_undecodable_records_are_dead_lettered_at_once(db: Database) -> None:
    calls: list[str] = []
    dead = DeadLetters()
    consumer = make_consumer(db, tracking_handlers(calls), dead)
    for value in (b"\x00garbage", None, b'{"specversion":"1.0"}'):
        assert await consumer.process(FakeRecord(value)) is Outcome.DEAD_LETTERED
    assert [attempts for _, _, attempts in dead.records] == [1, 1, 1]
    assert calls == []


async def test_unknown_type_is_dead_lettered_and_unhandled_type_ignored(db: Database) -> None:
    dead = DeadLetters()
    consumer = make_consumer(db, Handlers(), dead)
    assert await consumer.process(FakeRecord(registration())) is Outcome.IGNORED
    unknown = registration().replace(b"sanpi.project.registered.v1", b"sanpi.project.teleported.v1")
    assert await consumer.process(FakeRecord(unknown)) is Outcome.DEAD_LETTERED
    assert "unknown event type" in dead.records[0][1]


async def test_a_failing_handler_is_retried_then_dead_lettered_and_its_effect_rolled_back(
    db: Database,
) -> None:
    handlers: Handlers[Any] = Handlers()
    attempts: list[int] = []

    @handlers.on(ProjectRegistered)
    async def broken(uow: UnitOfWork, _event: CloudEvent, data: ProjectRegistered) -> None:
        attempts.append(1)
        uow.session.add(
            TrackedProject(
                project_id=data.project_id,
                name="x",
                park="x",
                total_investment=1,
                stage=Stage.SIGNED,
                registered_on=dt.date(2023, 1, 28),
                stage_since=dt.date(2023, 1, 28),
            )
        )
        raise RuntimeError("downstream rule exploded")

    dead = DeadLetters()
    consumer = make_consumer(db, handlers, dead)
    assert await consumer.process(FakeRecord(registration())) is Outcome.DEAD_LETTERED
    assert len(attempts) == 3
    assert dead.records[0][1] == "RuntimeError: downstream rule exploded"
    assert dead.records[0][2] == 3
    async with db.read() as session:
        assert (await session.exec(select(TrackedProject))).all() == []


async def test_a_transient_failure_succeeds_on_retry(db: Database) -> None:
    handlers: Handlers[Any] = Handlers()
    attempts: list[int] = []

    @handlers.on(ProjectRegistered)
    async def flaky(_uow: UnitOfWork, _event: CloudEvent, _data: ProjectRegistered) -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise ConnectionError("database restarting")

    dead = DeadLetters()
    assert (
        await make_consumer(db, handlers, dead).process(FakeRecord(registration()))
        is Outcome.PROCESSED
    )
    assert len(attempts) == 2
    assert dead.records == []


def _mutations() -> st.SearchStrategy[bytes | None]:
    """Bytes a broken or hostile producer could put in a record: noise, JSON of any shape, and
    real events with a field replaced by any JSON value."""
    valid = json.loads(registration())
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )

    def replace(path: tuple[str, ...], value: object) -> bytes:
        event = json.loads(json.dumps(valid))
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return json.dumps(event).encode()

    fields = st.sampled_from(
        [
            ("type",),
            ("id",),
            ("specversion",),
            ("time",),
            ("data",),
            ("data", "project_id"),
            ("data", "total_investment"),
            ("data", "stage"),
            ("data", "planned_start_date"),
            ("source",),
        ]
    )
    return st.one_of(
        st.none(),
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.builds(replace, fields, json_values),
    )


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_mutations())
async def test_any_bytes_end_in_the_dlq_or_a_clean_outcome_never_a_crash(
    db: Database, value: bytes | None
) -> None:
    dead = DeadLetters()
    consumer = make_consumer(db, tracking_handlers([]), dead)
    outcome = await consumer.process(FakeRecord(value, offset=1))
    assert outcome in set(Outcome)
    assert len(dead.records) == (1 if outcome is Outcome.DEAD_LETTERED else 0)


async def test_a_batch_applies_each_event_once_whether_seen_before_or_twice_in_it(
    db: Database,
) -> None:
    calls: list[str] = []
    consumer = make_consumer(db, tracking_handlers(calls), DeadLetters())
    seen_before = registration("p-0")
    assert await consumer.process(FakeRecord(seen_before)) is Outcome.PROCESSED
    twice = registration("p-2")
    batch = [seen_before, registration("p-1"), twice, twice, registration("p-3")]
    await consumer.process_many([FakeRecord(v, offset=i) for i, v in enumerate(batch)])
    assert calls == ["p-0", "p-1", "p-2", "p-3"]
    async with db.read() as session:
        tracked = (await session.exec(select(TrackedProject.project_id))).all()
    assert sorted(tracked) == ["p-0", "p-1", "p-2", "p-3"]


async def test_work_asked_for_at_commit_runs_once_per_transaction_and_rolls_back_with_it(
    db: Database,
) -> None:
    # What a consumer batch relies on to evaluate the projects of 50 events in one pass.
    runs: list[list[str]] = []
    handlers: Handlers[Any] = Handlers()
    inner = tracking_handlers([])
    track = inner.get("sanpi.project.registered.v1")
    assert track is not None

    touched_slot: Slot[list[str]] = Slot("test.touched", list)

    @handlers.on(ProjectRegistered)
    async def track_then_summarise(
        uow: UnitOfWork, event: CloudEvent, data: ProjectRegistered
    ) -> None:
        await track(uow, event, data)
        uow.slot(touched_slot).append(data.project_id)

        async def summarise(uow: UnitOfWork) -> None:
            touched = uow.take(touched_slot)
            assert touched is not None
            runs.append(touched)
            if "boom" in touched:
                raise RuntimeError("the shared work failed")

        uow.at_commit("summary", summarise)

    consumer = make_consumer(db, handlers, DeadLetters())
    await consumer.process_many(
        [FakeRecord(registration(p), offset=i) for i, p in enumerate(["a", "b", "c"])]
    )
    assert runs == [["a", "b", "c"]], "once for the whole batch, after every handler"
    runs.clear()
    # The shared work fails: the batch rolls back and each record is applied alone.
    outcome = await consumer.process(FakeRecord(registration("boom")))
    assert outcome is Outcome.DEAD_LETTERED
    assert runs == [["boom"]] * 3
    async with db.read() as session:
        tracked = (await session.exec(select(TrackedProject.project_id))).all()
    assert sorted(tracked) == ["a", "b", "c"], "the failed work's transaction left nothing"


async def test_a_batch_is_prepared_once_with_its_new_events_in_its_transaction(
    db: Database,
) -> None:
    calls: list[str] = []
    prepared: list[list[str]] = []
    handlers = tracking_handlers(calls)

    @handlers.before_batch
    async def prepare(_uow: UnitOfWork, batch: Sequence[EventData]) -> None:
        ids = [d.project_id for d in batch if isinstance(d, ProjectRegistered)]
        prepared.append(ids)
        assert calls == ["p-0"], "before the batch's handlers"

    consumer = EventConsumer(
        db=db,
        settings=ServiceSettings(consumer_max_attempts=1, consumer_backoff_ms=1),
        topics=["sanpi.projects"],
        handlers=handlers.as_mapping(),
        dead_letter=DeadLetters(),
        prepare=handlers.prepare,
    )
    seen_before = registration("p-0")
    assert await consumer.process(FakeRecord(seen_before)) is Outcome.PROCESSED
    assert prepared == [], "a record applied alone goes without"
    batch = [seen_before, registration("p-1"), registration("p-2")]
    await consumer.process_many([FakeRecord(v, offset=i) for i, v in enumerate(batch)])
    assert prepared == [["p-1", "p-2"]], "once, with the events not applied before"
    assert calls == ["p-0", "p-1", "p-2"]


async def test_a_batch_writes_one_inbox_row_per_event_at_commit_and_a_replay_of_it_is_a_no_op(
    db: Database,
) -> None:
    # The inbox rows of a batch go in with one statement when it commits (not ORM objects):
    # each event once, with its type and a UTC time, and a redelivered batch changes nothing.
    calls: list[str] = []
    consumer = make_consumer(db, tracking_handlers(calls), DeadLetters())
    twice = registration("p-2")
    records = [FakeRecord(v, offset=i) for i, v in enumerate([registration("p-1"), twice, twice])]
    before = utcnow()
    await consumer.process_many(records)
    async with db.read() as session:
        rows = (await session.exec(select(ProcessedEvent))).all()
    assert sorted(json.loads(r.value or b"")["id"] for r in records[:2]) == sorted(
        row.event_id for row in rows
    )
    assert {(row.consumer, row.source, row.event_type) for row in rows} == {
        (consumer.name, "/sanpi/registry", "sanpi.project.registered.v1")
    }
    assert all(before <= row.processed_at <= utcnow() for row in rows)
    await consumer.process_many(records)
    assert calls == ["p-1", "p-2"]
    async with db.read() as session:
        assert len((await session.exec(select(ProcessedEvent))).all()) == 2


@pytest.mark.db_independent
async def test_a_batch_looks_its_events_up_in_the_inbox_by_its_whole_key(tmp_path: Path) -> None:
    # Constrained by consumer alone, the inbox query read every row the consumer ever wrote:
    # a replay's batches grew slower with each one. SQLite's plan, whatever the test database.
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/plan.db")
    await db.create_all([*KIT_TABLES, TrackedProject])
    consumer = make_consumer(db, tracking_handlers([]), DeadLetters())
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "inbox" in statement:
            statements.append((statement, params))

    engine = db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        await consumer.process_many(
            [FakeRecord(registration(f"p-{n}"), offset=n) for n in range(3)]
        )
        assert len(statements) == 1
        statement, params = statements[0]
        async with db.engine.connect() as connection:
            found = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            plan = " ".join(str(row[-1]) for row in found)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
        await db.dispose()
    assert "consumer=? AND source=? AND event_id=?" in plan, plan


async def test_a_consumer_is_catching_up_until_its_hook_has_done_what_it_left(
    db: Database,
) -> None:
    # What the milestone service's sweep asks before taking the marks a replay left: while the
    # hook evaluates them, a sweep would evaluate the same projects again.
    during: list[bool] = []

    async def caught_up(database: Database) -> None:
        during.append(catching_up(database))

    consumer = EventConsumer(
        db=db,
        settings=ServiceSettings(consumer_max_attempts=1, consumer_backoff_ms=1),
        topics=["sanpi.projects"],
        handlers=tracking_handlers([]).as_mapping(),
        dead_letter=DeadLetters(),
        caught_up=caught_up,
    )
    tp = TopicPartition("sanpi.projects", 0)
    size = consumer.settings.consumer_transaction_records
    assert not catching_up(db)
    await consumer.apply_fetched({tp: [FakeRecord(registration("p-1"))]}, waiting=size)
    assert catching_up(db)
    await consumer.apply_fetched({tp: [FakeRecord(registration("p-2"), offset=1)]}, waiting=0)
    assert during == [True]
    assert not catching_up(db)


async def test_the_watchdog_tells_a_stall_from_an_idle_replica_and_a_failed_commit(
    db: Database,
) -> None:
    consumer = make_consumer(db, tracking_handlers([]), DeadLetters())
    ours, theirs = TopicPartition("sanpi.projects", 0), TopicPartition("sanpi.projects", 1)

    # Records wait on a partition held here, nothing processed for the stall time: a stall.
    with pytest.raises(ConsumerStalled, match="while 3 wait"):
        consumer._check_backlog({ours: Backlog(committed=7, end=10)}, held={ours})
    # A commit failed after processing: our own next offset says nothing waits.
    consumer._next[ours] = 10
    consumer._check_backlog({ours: Backlog(committed=7, end=10)}, held={ours})

    # Another member holds the partition and moves its offsets on: an idle extra replica.
    consumer._check_backlog({theirs: Backlog(committed=2, end=9)}, held={ours})
    consumer._check_backlog({theirs: Backlog(committed=5, end=9)}, held={ours})
    # ... until they stand still from one check to the next while records wait.
    with pytest.raises(ConsumerStalled, match="holds none of their partitions while 4 records"):
        consumer._check_backlog({theirs: Backlog(committed=5, end=9)}, held={ours})


# --- the infrastructure's failures are waited out, never counted as attempts -----------------


@pytest.fixture
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The waits between tries while the infrastructure is away, in milliseconds (0.5 s to 10 s
    in production), so that a test can fail many times more than the attempts allow."""
    monkeypatch.setattr(consumer_module, "BLOCKED_FIRST_WAIT_S", 0.001)
    monkeypatch.setattr(consumer_module, "BLOCKED_LAST_WAIT_S", 0.004)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


def failing_then_tracking(calls: list[str], failures: list[BaseException]) -> Handlers[Any]:
    """Handlers that raise the given errors, one per call, then track the project."""
    track = tracking_handlers(calls).get("sanpi.project.registered.v1")
    assert track is not None
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def flaky(uow: UnitOfWork, event: CloudEvent, data: ProjectRegistered) -> None:
        if failures:
            raise failures.pop(0)
        await track(uow, event, data)

    return handlers


@pytest.mark.usefixtures("quick_waits")
async def test_a_locked_database_is_waited_out_however_often_it_fails_never_dead_lettered(
    db: Database,
) -> None:
    calls: list[str] = []
    dead = DeadLetters()
    # Three times the attempts a poison record gets (make_consumer: 3).
    locked: list[BaseException] = [sqlite3.OperationalError("database is locked")] * 9
    consumer = make_consumer(db, failing_then_tracking(calls, locked), dead)
    failed_before = sample("sanpi_events_failed_total", topic="sanpi.projects", type=REGISTERED)
    waited_before = sample("sanpi_consumer_transient_failures_total", kind="locked")

    assert await consumer.process(FakeRecord(registration())) is Outcome.PROCESSED
    assert calls == ["p-1"]
    assert dead.records == []
    assert sample("sanpi_consumer_transient_failures_total", kind="locked") - waited_before == 9
    assert (
        sample("sanpi_events_failed_total", topic="sanpi.projects", type=REGISTERED)
        == failed_before
    ), "no attempt counted"
    assert not consumer.blocked
    assert sample("sanpi_consumer_blocked") == 0


@pytest.mark.usefixtures("quick_waits")
async def test_an_error_while_the_database_does_not_answer_is_no_attempt(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler's error says nothing of the database, but its ping fails: an outage.
    calls: list[str] = []
    dead = DeadLetters()
    odd: list[BaseException] = [RuntimeError("connection pool in a strange state")] * 6
    consumer = make_consumer(db, failing_then_tracking(calls, odd), dead)
    pings: list[int] = []
    real_ping = db.ping

    async def ping() -> None:
        pings.append(1)
        if odd:  # down until the handler's errors stop
            raise OSError("Multiple exceptions: [Errno 111] Connect call failed")
        await real_ping()

    monkeypatch.setattr(db, "ping", ping)
    assert await consumer.process(FakeRecord(registration())) is Outcome.PROCESSED
    assert calls == ["p-1"]
    assert dead.records == []
    assert len(pings) == 6


@pytest.mark.usefixtures("quick_waits")
async def test_a_handler_error_while_the_database_answers_is_still_poison(db: Database) -> None:
    calls: list[str] = []
    dead = DeadLetters()
    bugs: list[BaseException] = [RuntimeError("downstream rule exploded")] * 9
    consumer = make_consumer(db, failing_then_tracking(calls, bugs), dead)
    assert await consumer.process(FakeRecord(registration())) is Outcome.DEAD_LETTERED
    assert [attempts for _, _, attempts in dead.records] == [3]
    assert len(bugs) == 6, "three attempts, then the dead-letter topic"


@pytest.mark.usefixtures("quick_waits")
async def test_a_dead_letter_the_broker_refuses_is_sent_again_until_it_takes_it(
    db: Database,
) -> None:
    refusals = [KafkaConnectionError("no broker"), KafkaTimeoutError()]

    class Refusing(DeadLetters):
        async def __call__(self, record: Record, error: str, attempts: int) -> None:
            if refusals:
                raise refusals.pop(0)
            await super().__call__(record, error, attempts)

    dead = Refusing()
    waited_before = sample("sanpi_consumer_transient_failures_total", kind="broker")
    consumer = make_consumer(db, tracking_handlers([]), dead)
    assert await consumer.process(FakeRecord(b"\x00garbage")) is Outcome.DEAD_LETTERED
    assert len(dead.records) == 1
    assert sample("sanpi_consumer_transient_failures_total", kind="broker") - waited_before == 2


@pytest.mark.usefixtures("quick_waits")
async def test_a_batch_waits_for_the_database_and_is_then_applied_whole(db: Database) -> None:
    calls: list[str] = []
    prepared: list[int] = []
    handlers = failing_then_tracking(
        calls,
        [
            ConnectionResetError(errno.ECONNRESET, "reset"),
            sqlite3.OperationalError("database is locked"),
        ],
    )

    @handlers.before_batch
    async def prepare(_uow: UnitOfWork, batch: Sequence[EventData]) -> None:
        prepared.append(len(batch))

    dead = DeadLetters()
    consumer = EventConsumer(
        db=db,
        settings=ServiceSettings(consumer_max_attempts=1, consumer_backoff_ms=1),
        topics=["sanpi.projects"],
        handlers=handlers.as_mapping(),
        dead_letter=dead,
        prepare=handlers.prepare,
    )
    await consumer.process_many([FakeRecord(registration(f"p-{n}"), offset=n) for n in range(3)])
    assert calls == ["p-0", "p-1", "p-2"]
    assert prepared == [3, 3, 3], "the whole batch again, not one record at a time"
    assert dead.records == []


@pytest.mark.usefixtures("quick_waits")
async def test_a_consumer_asked_to_stop_while_waiting_stops_without_applying(
    db: Database,
) -> None:
    calls: list[str] = []
    dead = DeadLetters()
    consumer = make_consumer(
        db, failing_then_tracking(calls, [OSError(errno.ENOSPC, "No space left on device")]), dead
    )
    consumer._stopping = asyncio.Event()
    consumer._stopping.set()
    with pytest.raises(ConsumerStopping):
        await consumer.process(FakeRecord(registration()))
    assert calls == []
    assert dead.records == []


async def test_the_watchdog_leaves_a_consumer_alone_while_it_waits_for_the_database(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = EventConsumer(
        db=db,
        settings=ServiceSettings(consumer_stall_s=0.2),
        topics=["sanpi.projects"],
        handlers={},
        dead_letter=DeadLetters(),
    )
    tp = TopicPartition("sanpi.projects", 0)

    async def backlog(*_args: Any, **_kwargs: Any) -> dict[TopicPartition, Backlog]:
        return {tp: Backlog(committed=3, end=10)}  # records wait on a partition it holds

    class Holding:
        def assignment(self) -> set[TopicPartition]:
            return {tp}

    monkeypatch.setattr(consumer_module, "group_backlog", backlog)
    loop = asyncio.get_running_loop()
    consumer._progress_at = loop.time() - 60  # nothing processed for a minute
    consumer._blocked_since = loop.time() - 60  # ... because the database is away
    stopping = asyncio.Event()
    watching = asyncio.create_task(consumer._watch(Holding(), stopping))
    await asyncio.sleep(0.5)
    assert not watching.done(), "waiting for the database is not a stall"
    consumer._blocked_since = None
    consumer._progress_at = loop.time() - 60  # back, and still nothing processed: a stall
    with pytest.raises(ConsumerStalled):
        await asyncio.wait_for(watching, 5)


async def test_a_wait_keeps_polling_with_every_partition_paused() -> None:
    # A rebalance may assign a partition during the wait: what it returns is read again later.
    ours, new = TopicPartition("sanpi.projects", 0), TopicPartition("sanpi.projects", 1)

    class Kafka:
        def __init__(self) -> None:
            self.assigned = {ours}
            self.paused: set[TopicPartition] = set()
            self.seeks: list[tuple[TopicPartition, int]] = []
            self.polls = 0

        def assignment(self) -> set[TopicPartition]:
            return set(self.assigned)

        def pause(self, *tps: TopicPartition) -> None:
            self.paused |= set(tps)

        def resume(self, *tps: TopicPartition) -> None:
            self.paused -= set(tps)

        def seek(self, tp: TopicPartition, offset: int) -> None:
            self.seeks.append((tp, offset))

        async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[FakeRecord]]:
            self.polls += 1
            if self.polls == 1:
                self.assigned.add(new)  # the rebalance, while paused
                return {
                    new: [FakeRecord(b"x", partition=1, offset=40), FakeRecord(b"y", offset=41)]
                }
            await asyncio.sleep(timeout_ms / 1000)
            return {}

    kafka = Kafka()
    consumer = make_consumer(Database("sqlite+aiosqlite://"), Handlers(), DeadLetters())
    await consumer._idle_paused(kafka, asyncio.Event(), 0.3)
    assert kafka.polls >= 2
    assert kafka.seeks == [(new, 40)]
    assert kafka.paused == set(), "every partition resumed afterwards"
