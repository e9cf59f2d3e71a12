"""Kafka plumbing: the idempotent producer, topic creation and dead-letter records."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.partitioner import DefaultPartitioner, murmur2

from sanpi.events import dead_letter_topic
from sanpi.kit.settings import ServiceSettings
from sanpi.kit.waiting import within

log = logging.getLogger("sanpi.kafka")


class KeyPartitioner:
    """The Java client's partition of a key (murmur2, as aiokafka's DefaultPartitioner), each
    key's hash computed once: aiokafka's murmur2 is pure Python, ~3 of a milestone service's
    ~80 CPU-s per 60,000 batched reports, and a service keys its records by a few thousand
    project ids that recur with every report. Keyless records go to DefaultPartitioner."""

    # Hashes kept at most (a project id and its int: ~150 bytes): past it the cache starts over.
    MAX_KEYS = 200_000

    def __init__(self) -> None:
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self.MAX_KEYS:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """The one producer of a service: idempotent, acks=all, a few ms of linger to batch."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"sanpi-{settings.SERVICE}",
        enable_idempotence=True,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        request_timeout_ms=30_000,
        partitioner=KeyPartitioner(),
    )


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str]) -> list[str]:
    """Creates each topic and its dead-letter topic if missing; returns the names it created."""
    wanted = set()
    for topic in topics:
        wanted.add(topic)
        wanted.add(dead_letter_topic(topic))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"sanpi-{settings.SERVICE}-admin"
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(wanted - existing)
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name,
                        num_partitions=settings.kafka_partitions,
                        replication_factor=settings.kafka_replication_factor,
                        # The topics are the history every projection is rebuilt from: keep
                        # all of it, whatever the broker's default retention (7 days).
                        topic_configs={"retention.ms": "-1"},
                    )
                    for name in missing
                ]
            )
            for error in response.topic_errors:
                name, code = error[0], error[1]
                # Another service may create the same topic between our list and our create.
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise for_code(code)(f"could not create topic {name}: {error[-1]}")
            log.info("created topics %s", ", ".join(missing))
        return missing
    finally:
        await admin.close()


@dataclass(frozen=True)
class Backlog:
    """Where a consumer group stands on one partition, as the broker says."""

    committed: int  # the group's next offset to process; 0 when it never committed
    end: int  # the partition's end offset (the next record's offset)


async def group_backlog(
    bootstrap: str, group: str, topics: Sequence[str], *, timeout_s: float = 10.0
) -> dict[TopicPartition, Backlog] | None:
    """The group's committed and the end offsets of every partition of `topics`, asked by clients
    of their own that live for this one question, or None when the broker does not answer within
    `timeout_s`. Not a consumer's own client: after a broker restart that one can stay wedged,
    answering nothing, for good, while the broker itself is fine."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{group}-watchdog")
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, client_id=f"{group}-watchdog"
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await reader.start()
            partitions = [
                TopicPartition(described["topic"], p["partition"])
                for described in await admin.describe_topics(list(topics))
                for p in described["partitions"]
            ]
            ends = await reader.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    except (TimeoutError, OSError, KafkaError) as exc:
        log.debug("group backlog of %s unknown: %r", group, exc)
        return None
    finally:
        # Bounded as well: these clients talk to the broker the question could not reach.
        with contextlib.suppress(TimeoutError):
            await within(
                asyncio.gather(reader.stop(), admin.close(), return_exceptions=True), timeout_s
            )
    return {
        tp: Backlog(max(0, committed[tp].offset if tp in committed else 0), ends[tp])
        for tp in partitions
    }
