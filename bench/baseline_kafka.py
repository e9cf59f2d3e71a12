"""Baseline: raw aiokafka produce → consume on the same broker, with the services' producer settings."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.common import BenchResult, create_topic, delete_topic, percentile

# About the size of a progress.reported CloudEvent (measured: 560–650 bytes).
PAYLOAD_BYTES = 600


async def run(bootstrap: str, *, messages: int) -> BenchResult:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic)

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_poll_records=2000,
    )
    # Same settings as the services' producer (sanpi.kit.kafka): idempotent, acks=all, 5 ms linger.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await consumer.start()
    await producer.start()
    latencies: list[float] = []
    padding = b"x" * (PAYLOAD_BYTES - 20)

    async def consume() -> float:
        received = 0
        while received < messages:
            batch = await consumer.getmany(timeout_ms=500)
            now = time.time()
            for records in batch.values():
                for record in records:
                    latencies.append(now - float(record.value[:18]))
                    received += 1
        return time.time()

    try:
        consuming = asyncio.create_task(consume())
        started = time.time()
        futures = []
        for i in range(messages):
            value = f"{time.time():018.6f}".encode() + b"|" + padding
            futures.append(await producer.send(topic, value=value, key=f"p-{i % 1000}".encode()))
        await asyncio.gather(*futures)
        produced = time.time()
        finished = await asyncio.wait_for(consuming, timeout=120)
    finally:
        await producer.stop()
        await consumer.stop()
        await delete_topic(bootstrap, topic)

    result = BenchResult("baseline-kafka")
    result.add(
        "produce",
        messages / (produced - started),
        "msg/s",
        f"{messages} x {PAYLOAD_BYTES} B, acks=all",
    )
    result.add(
        "produce→consume", messages / (finished - started), "msg/s", "end to end, one process"
    )
    result.add("latency p50", percentile(latencies, 50) * 1000, "ms")
    result.add("latency p99", percentile(latencies, 99) * 1000, "ms")
    return result
