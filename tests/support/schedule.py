"""Seeded random fault schedules: which part is killed (the broker, PostgreSQL, a service replica),
after how many accepted writes, and for how long. The same seed gives the same schedule."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass

BROKER = "broker"
POSTGRES = "postgres"

# How long each kind of part stays down (seconds), drawn uniformly.
DOWN_S = {BROKER: (1.0, 8.0), POSTGRES: (1.0, 6.0)}
REPLICA_DOWN_S = (0.0, 5.0)


@dataclass(frozen=True)
class Fault:
    """Kill `target` once `at` writes were accepted (and the previous fault has struck); start it
    again `down_s` seconds later."""

    at: int
    target: str  # BROKER, POSTGRES or a replica's name (milestone-2)
    down_s: float

    def __str__(self) -> str:
        return f"@{self.at} {self.target} down {self.down_s:.1f}s"


def draw(
    seed: int, *, writes: int, replicas: Sequence[str], faults: int = 6, window: float = 0.8
) -> list[Fault]:
    """`faults` faults at accepted-write counts spread over the first `window` of the stream.
    Every schedule holds a broker kill, a PostgreSQL crash and a kill of one replica of each
    service; the rest are drawn from every part."""
    rng = random.Random(seed)
    services = sorted({name.rsplit("-", 1)[0] for name in replicas})
    targets = [BROKER, POSTGRES]
    targets += [rng.choice([r for r in replicas if r.startswith(f"{s}-")]) for s in services]
    parts = [BROKER, POSTGRES, *replicas]
    targets += [rng.choice(parts) for _ in range(max(0, faults - len(targets)))]
    rng.shuffle(targets)
    starts = sorted(rng.randint(int(writes * 0.05), int(writes * window)) for _ in targets)
    return [
        Fault(at, target, round(rng.uniform(*DOWN_S.get(target, REPLICA_DOWN_S)), 1))
        for at, target in zip(starts, targets, strict=True)
    ]


def seeds_from_env(default: Sequence[int]) -> list[int]:
    """SANPI_CHAOS_SEED=<n> (or n,m,…) replays those schedules; otherwise `default`."""
    given = os.environ.get("SANPI_CHAOS_SEED", "").strip()
    if not given:
        return list(default)
    return [int(part) for part in given.split(",") if part.strip()]


def fresh_seeds(count: int) -> list[int]:
    """Seeds nobody chose: each run of `make chaos` explores new schedules (printed, so that a
    failing one is replayed with SANPI_CHAOS_SEED)."""
    return [int.from_bytes(os.urandom(4), "big") for _ in range(count)]
