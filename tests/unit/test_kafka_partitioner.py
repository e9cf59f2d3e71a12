"""The producer's partitioner: the partition aiokafka's DefaultPartitioner (the Java client's
murmur2) gives a key, with each key's hash computed once."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.partitioner import DefaultPartitioner

from sanpi.kit.kafka import KeyPartitioner

pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize("count", [1, 3, 6, 12])
def test_a_key_goes_where_the_default_partitioner_sends_it(count: int) -> None:
    partitions = list(range(count))
    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    keys = [str(uuid.uuid4()).encode() for _ in range(500)] + [b"", "梧桐".encode()]
    for key in keys + keys:  # the second time from the cache
        assert ours(key, partitions, partitions) == theirs(key, partitions, partitions)


def test_the_cache_starts_over_when_full_and_still_answers_alike() -> None:
    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    ours.MAX_KEYS = 10
    partitions = [0, 1, 2, 3, 4, 5]
    for i in range(50):
        key = f"p-{i}".encode()
        assert ours(key, partitions, partitions) == theirs(key, partitions, partitions)
    assert len(ours._hashes) <= 10


def test_a_keyless_record_goes_to_an_available_partition() -> None:
    assert KeyPartitioner()(None, [0, 1, 2], [2]) == 2
