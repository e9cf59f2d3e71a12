"""Where the consumer groups and topics stand in Kafka: saved with a backup, set again after a
restore, and the records written since read back."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

# topic → partition → offset
Offsets = dict[str, dict[int, int]]


def by_topic(offsets: Mapping[TopicPartition, int]) -> Offsets:
    grouped: Offsets = {}
    for tp, offset in sorted(offsets.items()):
        grouped.setdefault(tp.topic, {})[tp.partition] = offset
    return grouped


def partitions(offsets: Offsets) -> dict[TopicPartition, int]:
    return {
        TopicPartition(topic, partition): offset
        for topic, by_partition in offsets.items()
        for partition, offset in by_partition.items()
    }


@dataclass
class KafkaPositions:
    """The committed offsets of consumer groups and the end offsets of topics at one moment."""

    bootstrap: str
    ends: Offsets = field(default_factory=dict)
    groups: dict[str, Offsets] = field(default_factory=dict)

    def to_json(self) -> str:
        def text_keys(offsets: Offsets) -> dict[str, dict[str, int]]:
            return {t: {str(p): o for p, o in sorted(ps.items())} for t, ps in offsets.items()}

        return json.dumps(
            {
                "bootstrap": self.bootstrap,
                "ends": text_keys(self.ends),
                "groups": {g: text_keys(o) for g, o in self.groups.items()},
            },
            indent=2,
            sort_keys=True,
        )

    def reset_csv(self, group: str) -> str:
        """The group's offsets as kafka-consumer-groups.sh --reset-offsets --from-file reads them."""
        rows = sorted(partitions(self.groups.get(group, {})).items())
        return "".join(f"{tp.topic},{tp.partition},{offset}\n" for tp, offset in rows)

    def write(self, path: Path) -> None:
        """kafka.json at `path`, and offsets-<group>.csv of each group beside it."""
        path.write_text(self.to_json() + "\n")
        for group in self.groups:
            path.with_name(f"offsets-{group}.csv").write_text(self.reset_csv(group))

    @staticmethod
    def load(path: Path) -> KafkaPositions:
        raw: dict[str, Any] = json.loads(path.read_text())

        def int_keys(offsets: dict[str, dict[str, int]]) -> Offsets:
            return {t: {int(p): int(o) for p, o in ps.items()} for t, ps in offsets.items()}

        return KafkaPositions(
            bootstrap=raw["bootstrap"],
            ends=int_keys(raw["ends"]),
            groups={g: int_keys(o) for g, o in raw["groups"].items()},
        )


class _Clients:
    """An admin client and a consumer without a group, for one question each."""

    def __init__(self, bootstrap: str) -> None:
        name = f"sanpi-offsets-{uuid.uuid4().hex[:6]}"
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=name)
        self.reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, client_id=name
        )

    async def __aenter__(self) -> _Clients:
        await self.admin.start()
        await self.reader.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.gather(self.reader.stop(), self.admin.close(), return_exceptions=True)

    async def partitions_of(self, topics: Iterable[str]) -> list[TopicPartition]:
        existing = set(await self.admin.list_topics())
        wanted = [t for t in topics if t in existing]
        if not wanted:
            return []
        return [
            TopicPartition(described["topic"], p["partition"])
            for described in await self.admin.describe_topics(wanted)
            for p in described["partitions"]
        ]


async def topic_ends(bootstrap: str, topics: Iterable[str]) -> Offsets:
    """The end offset (the next record's offset) of every partition of the topics that exist."""
    async with _Clients(bootstrap) as clients:
        found = await clients.partitions_of(topics)
        return by_topic(await clients.reader.end_offsets(found)) if found else {}


async def committed(bootstrap: str, group: str) -> Offsets:
    """Every offset the group has committed (none: an empty mapping)."""
    async with _Clients(bootstrap) as clients:
        offsets = await clients.admin.list_consumer_group_offsets(group)
    return by_topic({tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0})


async def group_members(bootstrap: str, group: str) -> int:
    """How many consumers the group has now (0: nobody consumes, its offsets may be set)."""
    async with _Clients(bootstrap) as clients:
        responses = await clients.admin.describe_consumer_groups([group])
    # DescribeGroupsResponse.groups: (error_code, group_id, state, protocol_type, protocol,
    # members, ...).
    return sum(len(g[5]) for response in responses for g in response.groups if g[1] == group)


async def set_committed(bootstrap: str, group: str, offsets: Offsets) -> None:
    """Commits `offsets` for the group, which must have no member (as kafka-consumer-groups
    --reset-offsets does): its consumers start there when they next join."""
    targets = partitions(offsets)
    if not targets:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        client_id=f"sanpi-offsets-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    try:
        # Assigned, not subscribed: the commit does not join the group.
        consumer.assign(list(targets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in targets.items()})
    finally:
        await consumer.stop()


async def read_from(
    bootstrap: str, starts: Offsets, *, timeout_s: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of each partition from its start offset up to the end it has now (without a
    group: nothing is committed), in partition and offset order."""
    async with _Clients(bootstrap) as clients:
        reader = clients.reader
        wanted = partitions(starts)
        existing = set(await clients.partitions_of(starts))
        wanted = {tp: o for tp, o in wanted.items() if tp in existing}
        if not wanted:
            return []
        ends = await reader.end_offsets(list(wanted))
        todo = {tp for tp, start in wanted.items() if start < ends[tp]}
        reader.assign(list(todo))
        for tp in todo:
            reader.seek(tp, wanted[tp])
        records: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(timeout_s):
            while todo:
                batch = await reader.getmany(*todo, timeout_ms=500)
                for tp, found in batch.items():
                    records.extend(r for r in found if r.offset < ends[tp])
                    if await reader.position(tp) >= ends[tp]:
                        todo.discard(tp)
    return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))


async def save_positions(
    bootstrap: str, groups: Iterable[str], topics: Iterable[str]
) -> KafkaPositions:
    """The groups' committed offsets, then the topics' end offsets: taken before a database
    copy, an offset committed then is an event the copy holds, and an event published after
    these ends is one it may lack."""
    positions = KafkaPositions(bootstrap)
    for group in groups:
        positions.groups[group] = await committed(bootstrap, group)
    positions.ends = await topic_ends(bootstrap, topics)
    return positions


class GroupBusy(RuntimeError):
    """A consumer group still has members: its offsets cannot be set."""


async def restore_groups(
    positions: KafkaPositions, groups: Iterable[str], *, bootstrap: str
) -> dict[str, dict[str, int]]:
    """Sets each group back to its offsets in `positions` (a partition it committed only since
    goes back to the start), so that its consumers apply again what was published since. Returns
    group → topic → how many records that is. Raises GroupBusy when a group has members."""
    wanted = list(groups)
    busy = [g for g in wanted if await group_members(bootstrap, g)]
    if busy:
        raise GroupBusy(f"consumer groups still have members: {', '.join(busy)}")
    replayed: dict[str, dict[str, int]] = {}
    for group in wanted:
        saved = partitions(positions.groups.get(group, {}))
        now = partitions(await committed(bootstrap, group))
        target = {tp: saved.get(tp, 0) for tp in {*saved, *now}}
        ends = partitions(await topic_ends(bootstrap, {tp.topic for tp in target}))
        await set_committed(bootstrap, group, by_topic(target))
        counts: dict[str, int] = {}
        for tp, offset in target.items():
            counts[tp.topic] = counts.get(tp.topic, 0) + max(0, ends.get(tp, offset) - offset)
        replayed[group] = counts
    return replayed
