"""The kit against the real broker: topics, outbox → Kafka, consumer loop with inbox and DLQ."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import REGISTRY
from sqlmodel import select

from sanpi.events import CloudEvent, ProjectRegistered, dead_letter_topic
from sanpi.kit import Database, Handlers, Role, ServiceSettings, UnitOfWork
from sanpi.kit.consumer import ConsumerStalled
from sanpi.kit.kafka import ensure_topics
from sanpi.kit.outbox import OutboxMessage
from sanpi.kit.waiting import within
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Broker, start_broker
from tests.support.apps import auth, serve_in_process
from tests.support.consumers import (
    consumer_settings,
    consuming_runtime,
    recording_handlers,
    registration,
)
from tests.support.kafka import header, produce, read_until
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka


# Only the broker, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
def test_starting_a_running_broker_is_harmless(kafka_broker: Broker) -> None:
    pid = kafka_broker.pid()
    again = kafka_broker.script("start")
    assert again.returncode == 0
    assert "already running" in again.stderr
    assert kafka_broker.pid() == pid
    assert kafka_broker.script("status").returncode == 0


# Only the broker, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
async def test_topics_are_created_with_their_dead_letter_topic(kafka_broker: Broker) -> None:
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    settings = ServiceSettings(kafka_bootstrap=kafka_broker.bootstrap, kafka_partitions=3)
    assert await ensure_topics(settings, [topic]) == sorted([topic, dead_letter_topic(topic)])
    assert await ensure_topics(settings, [topic]) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic, dead_letter_topic(topic)])
    finally:
        await admin.close()
    assert [len(t["partitions"]) for t in described] == [3, 3]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, None)]
        )
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert configs["retention.ms"] == "-1", "the history projections are rebuilt from is kept"


async def test_a_registration_reaches_kafka_as_a_cloudevent(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        data_dir=tmp_path,
        kafka_bootstrap=kafka_broker.bootstrap,
        consumer_group=f"itest-{uuid.uuid4().hex[:8]}",
    )
    async with serve_in_process(create_app(settings)) as registry:
        created = await registry.post(
            "/v1/projects",
            json={"name": "京东方艺云区域总部", "park": "石佛", "total_investment": 200_000},
            headers=auth(Role.ADMIN),
        )
        assert created.status_code == 201
        project_id = created.json()["id"]
        records = await read_until(
            kafka_broker.bootstrap,
            "sanpi.projects",
            lambda rs: any(r.key == project_id.encode() for r in rs),
        )
    record = next(r for r in records if r.key == project_id.encode())
    event = json.loads(record.value)
    assert event["type"] == header(record, "sanpi_type") == "sanpi.project.registered.v1"
    assert event["id"] == header(record, "sanpi_id")
    assert header(record, "content-type") == "application/cloudevents+json; charset=UTF-8"
    # ce_ headers would mean binary mode to a CloudEvents reader (structured mode: none).
    assert not [name for name, _value in record.headers if name.startswith("ce_")]
    assert event["subject"] == project_id
    assert event["data"]["park"] == "石佛"


async def test_poison_is_dead_lettered_and_the_partition_keeps_moving(
    kafka_broker: Broker, tmp_path: Path, database_url: str
) -> None:
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    applied: list[str] = []
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def on_registered(_uow: UnitOfWork, _e: CloudEvent, data: ProjectRegistered) -> None:
        if data.name == "explodes":
            raise ValueError("handler bug")
        applied.append(data.project_id)

    settings = ServiceSettings(
        data_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap=kafka_broker.bootstrap,
        consumer_group=f"itest-{uuid.uuid4().hex[:8]}",
        consumer_max_attempts=2,
        consumer_backoff_ms=10,
    )
    runtime = await consuming_runtime(settings, topic, handlers)

    good = registration("after-poison")
    await runtime.start()
    try:
        await asyncio.wait_for(runtime.kafka_ready.wait(), timeout=30)
        await produce(
            kafka_broker.bootstrap,
            topic,
            [b"\x00not json", registration("x", "explodes"), good, good],
            partition=0,
        )
        await eventually(
            lambda: applied == ["after-poison"], what="the record after the poison applied"
        )
        dead = await read_until(
            kafka_broker.bootstrap, dead_letter_topic(topic), lambda rs: len(rs) >= 2
        )
    finally:
        await runtime.stop()
    assert applied == ["after-poison"], "the duplicate must be a no-op"
    # A dead letter keeps its source partition number, so per source partition the DLQ keeps order.
    assert {r.partition for r in dead} == {0}
    assert dead[0].value == b"\x00not json"
    assert header(dead[0], "dlq_topic") == topic
    assert header(dead[0], "dlq_offset") == "0"
    assert "not a CloudEvents" in (header(dead[0], "dlq_error") or "")
    assert header(dead[1], "dlq_error") == "ValueError: handler bug"
    assert header(dead[1], "dlq_attempts") == "2"


# Only the broker, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
async def test_broker_data_survives_a_restart(run_dir: Path) -> None:
    directory = run_dir / "kafka-restart"
    broker = start_broker(directory)
    try:
        topic = "sanpi.itest.durable"
        await ensure_topics(
            ServiceSettings(kafka_bootstrap=broker.bootstrap, kafka_partitions=1), [topic]
        )
        await produce(broker.bootstrap, topic, [b"kept across restarts"])
        broker.stop()
        assert broker.pid() is None
        assert broker.script("stop").returncode == 0, "stopping a stopped broker is harmless"
        broker.start()
        broker.start()  # a second start of a running broker is a no-op
        records = await read_until(broker.bootstrap, topic, lambda rs: len(rs) >= 1)
        assert [r.value for r in records] == [b"kept across restarts"]
        format_log = (directory / "logs" / "format.log").read_text()
        assert "already formatted" in format_log, "the restart must not format the data again"
        assert "Formatting" not in format_log
    finally:
        broker.stop()


@pytest.mark.parametrize(
    ("holds_partitions", "deaf", "unstoppable", "complaint"),
    [
        (True, False, False, "no record processed for 2 s while 5 wait"),
        # After a broker restart a consumer that lost its coordinator held nothing and never
        # rejoined: the group's committed offsets standing still give it away.
        (False, False, False, "holds no partition while 5 records wait unconsumed"),
        # Seen in the fault test: the consumer's own client answered nothing either, so a
        # watchdog asking it skipped every check for good.
        (True, True, False, "no record processed for 2 s while 5 wait"),
        # Seen in make test: a service consumed nothing for 10 minutes after a broker restart and
        # never logged its watchdog. stop() waits for the group coordination task, which a
        # wedged consumer may never finish: the replacement must not wait with it.
        (True, False, True, "no record processed for 2 s while 5 wait"),
    ],
    ids=["silent", "silent-and-holding-nothing", "silent-and-deaf", "silent-and-unstoppable"],
)
async def test_a_consumer_that_stops_making_progress_is_replaced(
    kafka_broker: Broker,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    holds_partitions: bool,
    deaf: bool,
    unstoppable: bool,
    complaint: str,
) -> None:
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    handlers, applied = recording_handlers()
    settings = consumer_settings(
        tmp_path, database_url, kafka_broker.bootstrap, consumer_stall_s=2, consumer_stop_s=1
    )
    runtime = await consuming_runtime(settings, topic, handlers)
    await ensure_topics(settings, [topic])
    values = [registration(f"s-{i}") for i in range(5)]
    await produce(kafka_broker.bootstrap, topic, values, partition=0)

    # The aiokafka failure mode: connected, silent, never returning a record again.
    async def silent(*_args: object, **_kwargs: object) -> dict[object, object]:
        await asyncio.Event().wait()
        return {}

    def unanswered(name: str) -> Callable[..., Awaitable[object]]:
        answered = getattr(AIOKafkaConsumer, name)

        async def method(self: AIOKafkaConsumer, *args: object, **kwargs: object) -> object:
            if self._group_id is None:  # a group-less client, as the watchdog's own
                return await answered(self, *args, **kwargs)
            await asyncio.Event().wait()
            return None

        return method

    # The stuck stop() of a group member; the test stops it for real afterwards.
    stuck: list[AIOKafkaConsumer] = []
    real_stop = AIOKafkaConsumer.stop

    async def stop_never(self: AIOKafkaConsumer) -> None:
        if self._group_id is None:
            await real_stop(self)
            return
        stuck.append(self)
        await asyncio.Event().wait()

    stopping = asyncio.Event()
    assert runtime.consumer is not None
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, "sanpi.consumer"):
        patch.setattr(AIOKafkaConsumer, "getmany", silent)
        if not holds_partitions:
            patch.setattr(AIOKafkaConsumer, "assignment", lambda _self: set())
        if deaf:
            for name in ("end_offsets", "committed", "position"):
                patch.setattr(AIOKafkaConsumer, name, unanswered(name))
        if unstoppable:
            patch.setattr(AIOKafkaConsumer, "stop", stop_never)
        with pytest.raises(ConsumerStalled, match=complaint):
            await asyncio.wait_for(runtime.consumer.run(stopping), timeout=60)
    warnings = [r.getMessage() for r in caplog.records if r.name == "sanpi.consumer"]
    assert any(complaint in w and "replacing the consumer" in w for w in warnings), warnings
    assert any("abandoned" in w for w in warnings) == unstoppable, warnings
    assert len(stuck) == int(unstoppable)
    for member in stuck:  # its group membership would hold the partition from the replacement
        await asyncio.wait_for(real_stop(member), timeout=30)
    assert applied == []
    # The replacement is judged on catching up, not by a 2 s watchdog: if its join and first
    # batch take longer on a loaded machine, records wait on a partition it holds with none
    # processed, a stall by that measure (its run would raise, the five never applied).
    runtime.consumer.settings = settings.model_copy(update={"consumer_stall_s": 60.0})
    replacement = asyncio.create_task(runtime.consumer.run(stopping))
    try:
        await eventually(lambda: len(applied) == 5, what="the fresh consumer catches up")
    finally:
        stopping.set()
        await asyncio.wait_for(replacement, timeout=30)
        await runtime.db.dispose()
    assert applied == [f"s-{i}" for i in range(5)]


def _lag_series(topic: str) -> dict[int, float]:
    return {
        int(sample.labels["partition"]): sample.value
        for metric in REGISTRY.collect()
        if metric.name == "sanpi_consumer_lag"
        for sample in metric.samples
        if sample.labels["topic"] == topic
    }


async def test_every_assigned_partition_reports_its_lag_and_a_revoked_one_stops(
    kafka_broker: Broker, tmp_path: Path, database_url: str
) -> None:
    # A replica that joins a group after the backlog was consumed has nothing to process; it
    # must still report lag 0 for its partitions (docs/operations.md shows it), and a partition
    # a rebalance took away must not keep a stale figure.
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    handlers, applied = recording_handlers()
    settings = consumer_settings(tmp_path, database_url, kafka_broker.bootstrap, kafka_partitions=6)
    runtime = await consuming_runtime(settings, topic, handlers)
    await ensure_topics(settings, [topic])
    await produce(kafka_broker.bootstrap, topic, [registration("only-in-0")], partition=0)
    await runtime.start()
    other = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_broker.bootstrap, group_id=settings.consumer_group
    )
    try:
        await eventually(lambda: applied == ["only-in-0"], what="the one record applied")
        # Five of the six partitions never had a record: their lag is 0, not absent.
        await eventually(
            lambda: _lag_series(topic) == dict.fromkeys(range(6), 0.0),
            what="lag 0 for all six partitions",
        )
        await other.start()  # a second member: the rebalance moves some partitions to it
        taken = await eventually(
            lambda: other.assignment(), timeout=60, what="the second member's partitions"
        )
        gone = {tp.partition for tp in taken}
        await eventually(
            lambda: set(_lag_series(topic)) == set(range(6)) - gone,
            timeout=60,
            what="lag only for the partitions the service still holds",
        )
    finally:
        await other.stop()
        await runtime.stop()


async def test_records_arriving_within_the_linger_share_a_transaction_a_lone_one_waits_no_more(
    kafka_broker: Broker, tmp_path: Path, database_url: str
) -> None:
    # At a live rate a fetch holds about one record; without the linger each paid a transaction.
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    linger_s = 0.4
    applied: list[tuple[str, UnitOfWork]] = []  # the units of work kept: ids stay unique
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def on_registered(uow: UnitOfWork, _e: CloudEvent, data: ProjectRegistered) -> None:
        applied.append((data.project_id, uow))

    settings = consumer_settings(
        tmp_path,
        database_url,
        kafka_broker.bootstrap,
        kafka_partitions=3,
        consumer_linger_ms=int(linger_s * 1000),
    )
    runtime = await consuming_runtime(settings, topic, handlers)
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    await producer.start()
    await runtime.start()
    try:
        assert runtime.consumer is not None
        await asyncio.wait_for(runtime.consumer.assigned.wait(), timeout=30)
        # Three partitions, 20 ms apart: each alone would be a fetch (and a partition) of its own.
        for partition in range(3):
            await producer.send_and_wait(topic, registration(f"p-{partition}"), partition=partition)
            await asyncio.sleep(0.02)
        await eventually(lambda: len(applied) == 3, what="the three records applied")
        assert sorted(p for p, _s in applied) == ["p-0", "p-1", "p-2"]
        assert len({id(s) for _p, s in applied}) == 1, "one transaction for the three"

        await producer.send_and_wait(topic, registration("lone"), partition=1)
        # The fetch returns it at once; the linger is all it waits (plus a loaded machine's slack).
        await eventually(lambda: len(applied) == 4, timeout=linger_s + 1.5, what="the lone record")
        assert applied[3][0] == "lone"
    finally:
        await producer.stop()
        await runtime.stop()


# The registry's own database in tmp_path: the PostgreSQL pass would repeat it to the letter.
@pytest.mark.db_independent
async def test_a_stop_with_the_broker_gone_returns(run_dir: Path, tmp_path: Path) -> None:
    # The producer's stop waits for the records it holds to reach the broker: with the broker
    # gone, for good (a service stuck for minutes after SIGTERM, seen when make test's broker was
    # stopped first). The records are the outbox's rows, kept until acknowledged, so the stop
    # may give up on them: the next start publishes them.
    broker = start_broker(run_dir / f"kafka-gone-{uuid.uuid4().hex[:6]}")
    settings = RegistrySettings(
        data_dir=tmp_path,
        kafka_bootstrap=broker.bootstrap,
        consumer_group=f"itest-{uuid.uuid4().hex[:8]}",
        shutdown_grace_s=1.0,
    )

    async def write_then_stop() -> None:
        async with serve_in_process(create_app(settings)) as registry:

            async def register(name: str) -> str:
                created = await registry.post(
                    "/v1/projects",
                    json={"name": name, "park": "石佛", "total_investment": 20_000},
                    headers=auth(Role.ADMIN),
                )
                assert created.status_code == 201, created.text
                project_id: str = created.json()["id"]
                return project_id

            first = await register("停机测试一号")
            await read_until(
                broker.bootstrap,
                "sanpi.projects",
                lambda rs: any(r.key == first.encode() for r in rs),
            )
            broker.kill()
            await register("停机测试二号")  # held by the producer when the stop comes

    try:
        await within(write_then_stop(), 90)
    finally:
        broker.stop()

    # The row the broker never acknowledged is still in the outbox, for the next start.
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            rows = (await session.exec(select(OutboxMessage.key))).all()
    finally:
        await db.dispose()
    assert len(rows) == 1
