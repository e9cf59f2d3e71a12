"""Two replicas of every service on PostgreSQL (one database and one consumer group per service,
their outbox relays and delivery workers running side by side) under the 2,000-write lifecycle
stream, while parts of the system are killed and restarted: first one replica of each service at
different moments, then seeded random schedules of broker kills, replica kills and PostgreSQL
crashes. Each run is checked on its whole history (tests/support/history.py says exactly what
lost, duplicated and out of order mean) and prints its counts.

A schedule is drawn from its seed: `SANPI_CHAOS_SEED=<n>` replays it (make test runs seed 1, which
keeps CI within its time; `make chaos` runs the one-replica-of-each case, seeds 2 and 3 as well,
then fresh seeds, printed, and longer schedules)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chaos import REPORTED, Run, heal, run_scenario
from tests.support.replicas import ChaosWorld, replicated_world
from tests.support.schedule import Fault, draw, fresh_seeds, seeds_from_env
from tests.support.sink import WebhookSink

pytestmark = [pytest.mark.e2e, pytest.mark.postgres_only, pytest.mark.timeout(1200)]

PROJECTS = 40  # x 50 writes = 2,000
ENV = {
    # The stream measures delivery, not the rules: no evaluation after every report.
    "SANPI_MILESTONE_EVALUATE_ON_EVENTS": "false",
    # A delivery claimed by a killed worker is retried after 5 s, not the default minute.
    "SANPI_NOTIFICATION_DELIVERY_LEASE_S": "5",
    # A consumer silent after the broker's restart is replaced after 20 s, not a minute.
    "SANPI_CONSUMER_STALL_S": "20",
}


@pytest.fixture(scope="module")
def world(run_dir: Path) -> Iterator[ChaosWorld]:
    with replicated_world(run_dir / "replicas", replicas=2, extra_env=ENV) as running:
        yield running


async def check(world: ChaosWorld, name: str, run: Run) -> None:
    REPORTED.append(f"{name}: {run.headline()}")
    print(f"\n{name}: {run.headline()}")
    for line in run.struck:
        print(f"  struck {line}")
    print(f"  counts {run.summary()}")
    for problem in run.report.problems:
        print(f"  PROBLEM {problem}")
    if run.report.problems:
        await world.services.dump_stacks()  # the kept logs then say where each one waited
    assert not run.report.problems, "\n".join(run.report.problems)


# ~3 minutes on PostgreSQL; seed 1's schedule (below) kills replicas in make test.
@pytest.mark.chaos
async def test_one_replica_of_each_service_killed_at_different_moments(
    world: ChaosWorld, webhook_sink: WebhookSink
) -> None:
    await asyncio.to_thread(heal, world)
    faults = [
        Fault(300, "milestone-1", 2.0),
        Fault(800, "registry-2", 2.0),
        Fault(1300, "notification-1", 2.0),
    ]
    run = await run_scenario(world, webhook_sink, faults, projects=PROJECTS)
    await check(world, "one replica of each service SIGKILLed", run)


def replica_names(world: ChaosWorld) -> list[str]:
    return [r.name for r in world.services.all()]


@pytest.mark.parametrize("seed", seeds_from_env([1]))
async def test_seeded_fault_schedule(
    world: ChaosWorld, webhook_sink: WebhookSink, seed: int
) -> None:
    await seeded_schedule(world, webhook_sink, seed)


@pytest.mark.chaos
@pytest.mark.parametrize("seed", seeds_from_env([2, 3]))
async def test_more_seeded_fault_schedules(
    world: ChaosWorld, webhook_sink: WebhookSink, seed: int
) -> None:
    """The same length as seed 1's; two minutes each, so in make chaos rather than make test."""
    await seeded_schedule(world, webhook_sink, seed)


async def seeded_schedule(world: ChaosWorld, webhook_sink: WebhookSink, seed: int) -> None:
    await asyncio.to_thread(heal, world)
    faults = draw(seed, writes=PROJECTS * 50, replicas=replica_names(world), faults=6)
    print(f"\nseed {seed} (replay: SANPI_CHAOS_SEED={seed}): {', '.join(map(str, faults))}")
    run = await run_scenario(world, webhook_sink, faults, projects=PROJECTS, seed=seed)
    await check(world, f"seed {seed}", run)


CHAOS_RUNS = int(os.environ.get("SANPI_CHAOS_RUNS", "5"))


@pytest.mark.chaos
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("seed", seeds_from_env(fresh_seeds(CHAOS_RUNS)))
async def test_long_random_fault_schedule(
    world: ChaosWorld, webhook_sink: WebhookSink, seed: int
) -> None:
    """Twice the writes and a fault about every 300 of them."""
    await asyncio.to_thread(heal, world)
    faults = draw(seed, writes=PROJECTS * 2 * 50, replicas=replica_names(world), faults=14)
    print(
        f"\nseed {seed} (replay: SANPI_CHAOS_SEED={seed} make chaos): {', '.join(map(str, faults))}"
    )
    run = await run_scenario(world, webhook_sink, faults, projects=PROJECTS * 2, seed=seed)
    await check(world, f"long seed {seed}", run)
