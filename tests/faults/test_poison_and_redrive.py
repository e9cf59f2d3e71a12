"""Poison records (bad JSON, an unknown type, a handler that raises) go to the DLQ after bounded
retries while the partition keeps moving; `sanpi dlq redrive` replays them after the fix."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import CloudEvent, ProjectRegistered, dead_letter_topic
from sanpi.kit import Handlers, ServiceSettings, UnitOfWork
from sanpi.kit.kafka import ensure_topics
from tests.conftest import Broker
from tests.support.consumers import consuming_runtime, registration
from tests.support.kafka import header, produce, read_until
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka

SANPI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sanpi"


def redrive(bootstrap: str, topic: str, *args: str) -> str:
    return dlq_cli("redrive", bootstrap, topic, *args)


def dlq_cli(command: str, bootstrap: str, topic: str, *args: str) -> str:
    done = subprocess.run(
        [str(SANPI), "dlq", command, "--topic", topic, "--bootstrap", bootstrap, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_poison_goes_to_the_dlq_and_is_redriven_after_the_fix(
    kafka_broker: Broker, tmp_path: Path, database_url: str
) -> None:
    topic = f"sanpi.fault.{uuid.uuid4().hex[:8]}"
    group = f"fault-{uuid.uuid4().hex[:8]}"
    applied: list[str] = []
    fixed = False
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def on_registered(_uow: UnitOfWork, _e: CloudEvent, data: ProjectRegistered) -> None:
        if data.name == "needs a fix" and not fixed:
            raise RuntimeError("bug in the handler")
        applied.append(data.project_id)

    settings = ServiceSettings(
        data_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap=kafka_broker.bootstrap,
        consumer_group=group,
        consumer_max_attempts=3,
        consumer_backoff_ms=20,
    )
    runtime = await consuming_runtime(settings, topic, handlers)
    unknown = json.loads(registration("u-1", "x"))
    unknown["type"] = "sanpi.project.teleported.v1"
    poison = [b"{not json", json.dumps(unknown).encode(), registration("p-fix", "needs a fix")]
    await runtime.start()
    try:
        await asyncio.wait_for(runtime.kafka_ready.wait(), timeout=30)
        await produce(
            kafka_broker.bootstrap, topic, [*poison, registration("p-after", "fine")], partition=0
        )
        await eventually(
            lambda: applied == ["p-after"], what="the record after three poisons applied"
        )
        dead = await read_until(
            kafka_broker.bootstrap, dead_letter_topic(topic), lambda rs: len(rs) >= 3
        )
        assert [r.value for r in dead] == poison
        assert [header(r, "dlq_attempts") for r in dead] == ["1", "1", "3"], (
            "bounded retries, none for bytes"
        )
        assert "unknown event type" in (header(dead[1], "dlq_error") or "")
        assert header(dead[2], "dlq_error") == "RuntimeError: bug in the handler"

        fixed = True  # the fix is deployed
        out = redrive(kafka_broker.bootstrap, topic, "--consumer", group)
        assert "replayed 3 dead letters" in out
        await eventually(lambda: applied == ["p-after", "p-fix"], what="the fixed record applied")
        # The two that no fix can help are dead letters again; nothing else came back.
        again = await read_until(
            kafka_broker.bootstrap, dead_letter_topic(topic), lambda rs: len(rs) >= 5
        )
        assert [r.value for r in again[3:]] == poison[:2]
        assert "replayed 2 dead letters" in redrive(
            kafka_broker.bootstrap, topic, "--consumer", group
        )
        # Those two replays are consumed and dead-lettered once more: only then is "nothing else
        # was applied" a statement about the replays, not about timing.
        await read_until(kafka_broker.bootstrap, dead_letter_topic(topic), lambda rs: len(rs) >= 7)
    finally:
        await runtime.stop()
    counts = {"produced": 4, "dead_lettered": 3, "redriven": 3, "applied_after_fix": 1, "lost": 0}
    print(f"\npoison and redrive: {counts}")
    assert applied == ["p-after", "p-fix"], "nothing applied twice"


@pytest.mark.db_independent  # no database: dead letters and their replays are all in Kafka
async def test_each_consumer_groups_dead_letters_are_redriven_once_whichever_goes_first(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    # Two groups gave up on records of one topic; redriving one group must not use up the
    # other's letters (one shared redrive group once committed past them: 0 replayed for B).
    topic = f"sanpi.fault.{uuid.uuid4().hex[:8]}"
    dlq = dead_letter_topic(topic)
    await ensure_topics(
        ServiceSettings(
            data_dir=tmp_path, kafka_bootstrap=kafka_broker.bootstrap, kafka_partitions=2
        ),
        [topic],
    )
    a, b = "sanpi-registry", "sanpi-notification"

    async def give_up(consumer: str, value: bytes, partition: int, offset: int) -> None:
        await produce(
            kafka_broker.bootstrap,
            dlq,
            [value],
            key=b"p-1",
            partition=partition,
            headers=[
                ("ce_type", b"sanpi.project.registered.v1"),
                ("dlq_error", b"RuntimeError: bug"),
                ("dlq_topic", topic.encode()),
                ("dlq_partition", str(partition).encode()),
                ("dlq_offset", str(offset).encode()),
                ("dlq_consumer", consumer.encode()),
                ("dlq_attempts", b"4"),
            ],
        )

    letters = [(a, b"a-1", 0), (b, b"b-1", 0), (a, b"a-2", 1), (b, b"b-2", 1), (a, b"a-3", 0)]
    for offset, (consumer, value, partition) in enumerate(letters):
        await give_up(consumer, value, partition, offset)

    replayed = {
        "A": redrive(kafka_broker.bootstrap, topic, "--consumer", a),
        "B": redrive(kafka_broker.bootstrap, topic, "--consumer", b),
        "A again": redrive(kafka_broker.bootstrap, topic, "--consumer", a),
        "all": redrive(kafka_broker.bootstrap, topic),
    }
    await give_up(b, b"b-3", 1, 99)  # B gives up on one more after all that
    replayed["all, after a new one"] = redrive(kafka_broker.bootstrap, topic)
    counts = {k: int(v.split("replayed ")[1].split()[0]) for k, v in replayed.items()}
    print(f"\nredrive per consumer group: {counts}")
    assert counts == {"A": 3, "B": 2, "A again": 0, "all": 0, "all, after a new one": 1}
    assert "skipped 2 of other consumers" in replayed["A"]
    assert "3 redriven before" in replayed["A again"]

    source = await read_until(kafka_broker.bootstrap, topic, lambda rs: len(rs) >= 6)
    assert sorted(r.value or b"" for r in source) == [
        b"a-1",
        b"a-2",
        b"a-3",
        b"b-1",
        b"b-2",
        b"b-3",
    ]
    assert {r.value: r.partition for r in source} == {
        b"a-1": 0,
        b"b-1": 0,
        b"a-2": 1,
        b"b-2": 1,
        b"a-3": 0,
        b"b-3": 1,
    }, "each to the partition it came from"
    listed = dlq_cli("list", kafka_broker.bootstrap, topic)
    assert "6 dead letters" in listed
    assert listed.count(" yes ") == 6, listed
