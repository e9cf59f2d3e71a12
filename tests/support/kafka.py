"""Reading topics directly, as any Kafka client would, to check what the services published."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from sanpi.events import KafkaRecord, header_type
from scripts.read_topic import partitions_of


async def read_until(
    bootstrap: str,
    topic: str,
    predicate: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    timeout: float = 30.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Reads `topic` from the beginning (no group commits) until `predicate(records)` holds."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id=f"test-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
            if predicate(records):
                return records
        raise AssertionError(
            f"{topic}: condition not met within {timeout}s ({len(records)} records read)"
        )
    finally:
        await consumer.stop()


async def read_all(
    bootstrap: str, topic: str, *, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` from offset 0 up to its end as the broker states it now, each
    partition in offset order (no group, nothing committed). A missing topic reads as empty."""
    partitions = await partitions_of(topic, bootstrap)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"test-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        left = {tp for tp in assigned if ends[tp] > 0}
        deadline = time.monotonic() + timeout
        while left:
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: not read to its end within {timeout}s")
            batch = await consumer.getmany(*left, timeout_ms=200)
            for tp, part in batch.items():
                records.extend(r for r in part if r.offset < ends[tp])
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes | None],
    *,
    key: bytes | None = None,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Sends raw records (garbage included) exactly as given, waiting for the broker's ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(
            *[
                await producer.send(topic, value=v, key=key, partition=partition, headers=headers)
                for v in values
            ]
        )
    finally:
        await producer.stop()


async def produce_records(bootstrap: str, records: Sequence[KafkaRecord]) -> None:
    """Sends built records (each with its topic, key and headers) in order from one producer, as
    a service's relay sends a batch: a producer each would space them by its start and stop,
    seconds apart on a loaded machine, where a service's batch is consumed as one."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(
            *[
                await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
                for r in records
            ]
        )
    finally:
        await producer.stop()


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return str(value.decode(errors="replace"))
    return None


async def find_event(
    bootstrap: str, topic: str, *, key: str, event_type: str, timeout: float = 30.0
) -> ConsumerRecord[bytes, bytes]:
    """The first record on `topic` with this key and event type header (waits until it is there)."""

    def wanted(record: ConsumerRecord[bytes, bytes]) -> bool:
        return record.key == key.encode() and header_type(record.headers) == event_type

    records = await read_until(
        bootstrap, topic, lambda rs: any(wanted(r) for r in rs), timeout=timeout
    )
    return next(r for r in records if wanted(r))
