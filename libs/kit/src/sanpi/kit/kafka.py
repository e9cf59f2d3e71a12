"""Kafka plumbing: the idempotent producer, topic creation and dead-letter records."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from sanpi.events import dead_letter_topic
from sanpi.kit.settings import ServiceSettings

log = logging.getLogger("sanpi.kafka")


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """The one producer of a service: idempotent, acks=all, a few ms of linger to batch."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"sanpi-{settings.SERVICE}",
        enable_idempotence=True,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        request_timeout_ms=30_000,
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
