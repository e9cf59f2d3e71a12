"""Prints the records of a Kafka topic (e.g. a dead-letter topic) as JSON lines, then exits.

    .venv/bin/python scripts/read_topic.py TOPIC [--bootstrap HOST:PORT] [--type T] [--last N]
                                          [--after BACKUP_DIR]

Reads every partition from the start to the end offsets it finds when it starts, without a
consumer group (nothing is committed, no service is disturbed). Each line holds topic,
partition, offset, key, headers (dlq_* on a dead-letter topic) and the value (the CloudEvent,
or the raw text when it is not JSON). --type keeps only records whose sanpi_type header (ce_type
in records written before it was renamed) is T. --after reads only what was published after a
backup (scripts/backup.py) took the topic's end offsets: after a restore, the events whose
changes the restored databases lack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from sanpi.events import header_type


def as_json(record: Any) -> dict[str, Any]:
    raw = record.value or b""
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw.decode(errors="replace")
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode(errors="replace") if record.key is not None else None,
        "headers": {k: v.decode(errors="replace") for k, v in record.headers or ()},
        "value": value,
    }


async def partitions_of(topic: str, bootstrap: str) -> list[int]:
    """The partition numbers of `topic`; empty when the broker has no such topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        p["partition"] for t in described if t["error_code"] == 0 for p in t["partitions"]
    )


def starts_after(backup: Path, topic: str) -> dict[int, int]:
    """partition → the end offset the backup saved (the first record published after it)."""
    ends: dict[str, dict[str, int]] = json.loads((backup / "kafka.json").read_text())["ends"]
    return {int(p): o for p, o in ends.get(topic, {}).items()}


async def read(
    topic: str,
    bootstrap: str,
    event_type: str | None,
    last: int | None,
    after: dict[int, int] | None = None,
) -> int:
    partitions = await partitions_of(topic, bootstrap)
    if not partitions:
        print(f"no topic {topic} on {bootstrap}", file=sys.stderr)
        return 1
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        starts = await consumer.beginning_offsets(assigned)
        for tp in assigned:
            start = starts[tp] if last is None else max(starts[tp], ends[tp] - last)
            if after is not None:
                start = max(start, after.get(tp.partition, 0))
            consumer.seek(tp, start)
        remaining = {tp for tp in assigned if (await consumer.position(tp)) < ends[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    line = as_json(record)
                    if event_type is None or header_type(record.headers) == event_type:
                        print(json.dumps(line, ensure_ascii=False), flush=True)
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return 0
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("topic", help="e.g. sanpi.projects or sanpi.projects.dlq")
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("SANPI_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="default: $SANPI_KAFKA_BOOTSTRAP or 127.0.0.1:9092",
    )
    parser.add_argument(
        "--type", dest="event_type", help="only records of this event type (sanpi_type header)"
    )
    parser.add_argument("--last", type=int, help="only the last N records of each partition")
    parser.add_argument(
        "--after", type=Path, help="a backup's directory: only records published after it"
    )
    args = parser.parse_args()
    after = starts_after(args.after, args.topic) if args.after else None
    return asyncio.run(read(args.topic, args.bootstrap, args.event_type, args.last, after))


if __name__ == "__main__":
    sys.exit(main())
