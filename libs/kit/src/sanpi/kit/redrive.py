"""DLQ redrive: replays dead letters to the topic and partition they came from, after a fix.

Every consumer group of the source topic sees a replayed record again; the groups that had
applied it skip it through their inbox, the one that dead-lettered it gets another try."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from sanpi.events import DLQ_SUFFIX, renamed_headers

DLQ_HEADERS = frozenset(
    {"dlq_error", "dlq_topic", "dlq_partition", "dlq_offset", "dlq_consumer", "dlq_attempts"}
)


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, with what the consumer that gave up said about it."""

    dlq_partition: int
    dlq_offset: int
    topic: str
    partition: int
    offset: int
    consumer: str
    attempts: int
    error: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @staticmethod
    def of(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        meta = {k: v.decode(errors="replace") for k, v in record.headers if k in DLQ_HEADERS}
        return DeadLetter(
            dlq_partition=record.partition,
            dlq_offset=record.offset,
            topic=meta.get("dlq_topic", record.topic.removesuffix(DLQ_SUFFIX)),
            partition=int(meta.get("dlq_partition", record.partition)),
            offset=int(meta.get("dlq_offset", -1)),
            consumer=meta.get("dlq_consumer", ""),
            attempts=int(meta.get("dlq_attempts", 0)),
            error=meta.get("dlq_error", ""),
            key=record.key,
            value=record.value,
            headers=[(k, v) for k, v in record.headers if k not in DLQ_HEADERS],
        )


@dataclass
class RedriveResult:
    replayed: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0  # dead letters of another consumer (when one was named)


def redrive_group(dlq_topic: str) -> str:
    """The consumer group that remembers how far a DLQ was redriven (each record replays once)."""
    return f"sanpi-redrive-{dlq_topic}"


async def read_dead_letters(
    bootstrap: str, dlq_topic: str, *, timeout_s: float = 5.0
) -> list[DeadLetter]:
    """Every record of the dead-letter topic, from the start (reading commits nothing)."""
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id=f"sanpi-dlq-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    try:
        return [DeadLetter.of(r) for r in await _drain(consumer, timeout_s)]
    finally:
        await consumer.stop()


async def redrive(
    bootstrap: str,
    dlq_topic: str,
    *,
    consumer_group: str | None = None,
    dry_run: bool = False,
    timeout_s: float = 5.0,
    progress: Callable[[DeadLetter], None] | None = None,
) -> RedriveResult:
    """Replays the dead letters not yet redriven (all, or only those `consumer_group` gave up
    on) to their source topic and partition, with their original key, value and headers."""
    result = RedriveResult()
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap,
        group_id=redrive_group(dlq_topic),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id=f"sanpi-redrive-{uuid.uuid4().hex[:6]}",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    try:
        records = await _drain(consumer, timeout_s)
        for record in records:
            letter = DeadLetter.of(record)
            if consumer_group and letter.consumer != consumer_group:
                result.skipped += 1
                continue
            if not dry_run:
                await producer.send_and_wait(
                    letter.topic,
                    value=letter.value,
                    key=letter.key,
                    partition=letter.partition,
                    # A letter written before the routing headers were renamed replays with
                    # today's names: a CloudEvents SDK reads it as structured mode.
                    headers=renamed_headers(letter.headers),
                )
            result.replayed.append(letter)
            if progress is not None:
                progress(letter)
        if records and not dry_run:
            ends: dict[TopicPartition, int] = {}
            for record in records:
                ends[TopicPartition(record.topic, record.partition)] = record.offset + 1
            await consumer.commit(ends)
    finally:
        await producer.stop()
        await consumer.stop()
    return result


async def _drain(
    consumer: AIOKafkaConsumer, timeout_s: float
) -> list[ConsumerRecord[bytes, bytes]]:
    """Reads until an empty fetch after the partitions' ends (or `timeout_s` of nothing)."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for part in batch.values():
            records.extend(part)
        if not batch and consumer.assignment() and await _at_end(consumer):
            break
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def _at_end(consumer: AIOKafkaConsumer) -> bool:
    partitions = consumer.assignment()
    ends = await consumer.end_offsets(list(partitions))
    for tp in partitions:
        if await consumer.position(tp) < ends[tp]:
            return False
    return True
