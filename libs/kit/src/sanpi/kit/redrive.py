"""DLQ redrive: replays dead letters to the topic and partition they came from, after a fix.

Every consumer group of the source topic sees a replayed record again; the groups that had
applied it skip it through their inbox, the one that dead-lettered it gets another try. How far
each consumer group's dead letters were redriven is remembered per group, so a redrive for one
group neither replays nor skips another's."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
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
    earlier: int = 0  # dead letters of the consumers asked for, redriven by an earlier run


def redrive_group(dlq_topic: str, consumer: str) -> str:
    """The Kafka consumer group that remembers how far `consumer`'s dead letters in `dlq_topic`
    were redriven. One per consumer: a redrive for one commits nothing for the others, whose
    letters stay to be redriven (one group for the whole topic committed past them)."""
    name = _UNSAFE.sub("_", consumer) or "unknown"
    return f"sanpi-redrive-{dlq_topic}-{name}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


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


async def redriven_up_to(
    bootstrap: str, dlq_topic: str, consumer: str, partitions: Iterable[int]
) -> dict[int, int]:
    """Per partition of `dlq_topic`, the offset from which `consumer`'s dead letters have not
    been redriven yet (0: none was)."""
    wanted = set(partitions)
    if not wanted:
        return {}
    async with _group_client(bootstrap, dlq_topic, consumer, wanted) as client:
        return await _committed(client, dlq_topic, wanted)


async def redrive(
    bootstrap: str,
    dlq_topic: str,
    *,
    consumer_group: str | None = None,
    dry_run: bool = False,
    timeout_s: float = 5.0,
    progress: Callable[[DeadLetter], None] | None = None,
) -> RedriveResult:
    """Replays the dead letters not yet redriven (of every consumer group, or only of
    `consumer_group`) to their source topic and partition, with their original key, value and
    headers; then remembers, per consumer group, how far its letters were replayed. Each
    group's letters are replayed once, whichever group is redriven first."""
    result = RedriveResult()
    letters = await read_dead_letters(bootstrap, dlq_topic, timeout_s=timeout_s)
    # How far this run read each partition: what a group's next run starts from.
    read_to: dict[int, int] = {}
    for letter in letters:
        read_to[letter.dlq_partition] = max(
            read_to.get(letter.dlq_partition, 0), letter.dlq_offset + 1
        )
    consumers = sorted({letter.consumer for letter in letters})
    if consumer_group is not None:
        result.skipped = sum(1 for letter in letters if letter.consumer != consumer_group)
        consumers = [c for c in consumers if c == consumer_group]
    if not consumers:
        return result
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for consumer in consumers:
            async with _group_client(bootstrap, dlq_topic, consumer, read_to) as client:
                done = await _committed(client, dlq_topic, read_to)
                for letter in letters:
                    if letter.consumer != consumer:
                        continue
                    if letter.dlq_offset < done[letter.dlq_partition]:
                        result.earlier += 1
                        continue
                    if not dry_run:
                        await producer.send_and_wait(
                            letter.topic,
                            value=letter.value,
                            key=letter.key,
                            partition=letter.partition,
                            # A letter written before the routing headers were renamed replays
                            # with today's names: a CloudEvents SDK reads it as structured mode.
                            headers=renamed_headers(letter.headers),
                        )
                    result.replayed.append(letter)
                    if progress is not None:
                        progress(letter)
                if not dry_run:
                    # After the replays: a crash between the two replays them again (the
                    # consumers' inboxes skip what they applied), never loses one.
                    await client.commit(
                        {TopicPartition(dlq_topic, p): end for p, end in read_to.items()}
                    )
    finally:
        await producer.stop()
    return result


@contextlib.asynccontextmanager
async def _group_client(
    bootstrap: str, dlq_topic: str, consumer: str, partitions: Iterable[int]
) -> AsyncIterator[AIOKafkaConsumer]:
    """A client of `consumer`'s redrive group that joins nothing: it is given `partitions` and
    only reads and commits the group's offsets (Kafka takes a commit from outside the group
    while the group has no member)."""
    client = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=redrive_group(dlq_topic, consumer),
        enable_auto_commit=False,
        client_id=f"sanpi-redrive-{uuid.uuid4().hex[:6]}",
    )
    client.assign([TopicPartition(dlq_topic, p) for p in sorted(set(partitions))])
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def _committed(
    client: AIOKafkaConsumer, dlq_topic: str, partitions: Iterable[int]
) -> dict[int, int]:
    return {p: await client.committed(TopicPartition(dlq_topic, p)) or 0 for p in partitions}


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
