"""Outages while the services run, each test printing what it counted:

- the database (PostgreSQL stopped; on SQLite another process holds each file's write lock)
  while events keep arriving on Kafka, for 5 s in `make test` and 60 s in `make chaos`: nothing
  may be lost or dead-lettered, since each consumer waits for its database instead of counting
  the failures as attempts, and the watchdog does not take the wait for a stall;
- the broker, stopped for 60 s while people write: the services stay ready (Kubernetes keeps
  them in rotation), the writes are accepted into the outboxes, and everything is published
  once the broker is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sanpi.events import ProjectRegistered, ProjectStageChanged, Stage, build_record
from sanpi.kit.redrive import read_dead_letters
from scripts import stack
from tests.conftest import Broker, Postgres, Stack, free_port, running_stack, start_broker
from tests.support.kafka import produce
from tests.support.sink import WebhookSink
from tests.support.stream import new_tag, register_projects
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

REGISTERED = "sanpi.project.registered.v1"
STAGE_CHANGED = "sanpi.project.stage_changed.v1"
# Pre-registered through the registry's API: the injected stage changes are about them.
STAGED_PROJECTS = 24
# An event pair every this many seconds while the outage is injected (before, during, after).
INJECT_EVERY_S = 0.25


@dataclass
class OutageStack:
    broker: Broker
    services: Stack
    directory: Path
    postgres: Postgres | None  # a cluster of this module's own: stopping it disturbs no other test

    @contextlib.asynccontextmanager
    async def database_outage(self) -> AsyncIterator[None]:
        """Every service's database away until the block ends."""
        if self.postgres is not None:
            stopped = await asyncio.to_thread(self.postgres.script, "stop")
            assert stopped.returncode == 0, stopped.stderr
            try:
                yield
            finally:
                started = await asyncio.to_thread(self.postgres.script, "start")
                assert started.returncode == 0, started.stderr
            return
        # Another process (this one) holds each file's write lock, as a backup tool or a stuck
        # migration would: the services' writes fail with "database is locked" after their
        # busy timeout, again and again, until it lets go.
        holders = [
            await asyncio.to_thread(_hold_write_lock, self.directory / f"{name}.db")
            for name in stack.SERVICES
        ]
        try:
            yield
        finally:
            for holder in holders:
                holder.execute("ROLLBACK")
                holder.close()


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.fixture(scope="module")
def outage(run_dir: Path, postgres: Postgres | None) -> Iterator[OutageStack]:
    directory = run_dir / "outages"
    broker = start_broker(directory / "kafka")
    cluster = None
    if postgres is not None:
        port = free_port()
        pg_dir = directory / "postgres"
        cluster = Postgres(
            pg_dir, port, {"PG_DIR": str(pg_dir), "PG_PORT": str(port), "PG_FAST": "1"}
        )
        started = cluster.script("start")
        assert started.returncode == 0, started.stderr
    env = {
        # A consumer silent for 5 s while records wait would be replaced: short, so that even
        # the 5 s outage shows whether the watchdog tells waiting on the database from a stall.
        "SANPI_CONSUMER_STALL_S": "5",
        # The stream measures consumption, not the rules.
        "SANPI_MILESTONE_EVALUATE_ON_EVENTS": "false",
    }
    for name in stack.SERVICES:
        # A writer waits 1 s for SQLite's lock, not 10: a 5 s lock is then an outage the
        # consumers see, not a wait their busy handler rides out.
        env[f"SANPI_{name.upper()}_DATABASE_BUSY_TIMEOUT_MS"] = "1000"
    try:
        with running_stack(
            broker.bootstrap, directory, cluster, database_prefix="outage", extra_env=env
        ) as services:
            yield OutageStack(broker, services, directory, cluster)
    finally:
        broker.stop()
        if cluster is not None:
            cluster.script("stop")


@dataclass
class Injected:
    """The events the test put on Kafka itself, as the registry and the milestone service would."""

    registered: list[str] = field(default_factory=list)  # project ids
    staged: list[str] = field(default_factory=list)  # project ids (registered over the API)
    event_ids: set[str] = field(default_factory=set)


async def inject(
    bootstrap: str, tag: str, staged: list[str], injected: Injected, stop: asyncio.Event
) -> None:
    """A registration, and a stage change of a pre-registered project while any are left, every
    INJECT_EVERY_S until `stop`: events the consumers fetch before, during and after the outage."""
    pending = list(staged)
    number = 0
    while not stop.is_set():
        number += 1
        project_id = f"outage-{tag}-{number:04d}"
        _event, record = build_record(
            ProjectRegistered(
                project_id=project_id,
                version=1,
                name=f"停库测试{tag}-{number:04d}",
                park="梧桐",
                total_investment=50_000,
                stage=Stage.SIGNED,
                planned_start_date=dt.date(2024, 3, 1),
            ),
            source="/sanpi/registry",
        )
        records = [record]
        injected.registered.append(project_id)
        if pending:
            project = pending.pop(0)
            _event, change = build_record(
                ProjectStageChanged(
                    project_id=project,
                    from_stage=Stage.SIGNED,
                    to_stage=Stage.UNDER_CONSTRUCTION,
                    effective_date=dt.date(2024, 3, 8),
                    reason="MILESTONE",
                    changed_by="outage-test",
                ),
                source="/sanpi/milestone",
            )
            records.append(change)
            injected.staged.append(project)
        for r in records:
            await produce(bootstrap, r.topic, [r.value], key=r.key, headers=r.headers)
            injected.event_ids.add(json.loads(r.value)["id"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INJECT_EVERY_S)


def metric_sum(text: str, name: str) -> float:
    pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", re.MULTILINE)
    return sum(float(v) for v in pattern.findall(text))


async def subscribe(
    http: httpx.AsyncClient, notification: str, sink: WebhookSink, *event_types: str
) -> str:
    """A webhook subscription of `sink` to `event_types`; its id."""
    body = {"channel": "webhook", "url": sink.url, "event_types": list(event_types)}
    subscribed = await http.post(f"{notification}/v1/subscriptions", json=body)
    assert subscribed.status_code == 201, subscribed.text
    subscription_id: str = subscribed.json()["id"]
    return subscription_id


async def unsubscribe(http: httpx.AsyncClient, notification: str, subscription_id: str) -> None:
    # The stack is the module's: a subscription left behind would have the next test's
    # deliveries retried to a closed sink.
    gone = await http.delete(f"{notification}/v1/subscriptions/{subscription_id}")
    assert gone.status_code == 204, gone.text


async def run_outage(outage: OutageStack, sink: WebhookSink, seconds: float) -> dict[str, int]:
    urls = outage.services.urls
    tag = new_tag()
    async with httpx.AsyncClient(headers=outage.services.headers(), timeout=30) as http:
        subscription = await subscribe(http, urls["notification"], sink, REGISTERED, STAGE_CHANGED)
        staged = await register_projects(
            http, urls["registry"], urls["milestone"], STAGED_PROJECTS, tag
        )
        before = {name: (await http.get(f"{url}/metrics")).text for name, url in urls.items()}

        injected = Injected()
        stop = asyncio.Event()
        injecting = asyncio.create_task(
            inject(outage.broker.bootstrap, tag, staged, injected, stop)
        )
        try:
            await asyncio.sleep(2)  # consuming normally first
            async with outage.database_outage():
                await asyncio.sleep(seconds)
            await asyncio.sleep(2)
        finally:
            stop.set()
            await injecting
        outage_over = time.monotonic()

        # Settle: every injected event applied by every consumer, or two minutes gone.
        def notified() -> dict[str, set[str]]:
            by_event: dict[str, set[str]] = defaultdict(set)
            for received in sink.accepted():
                by_event[json.loads(received.body)["id"]].add(received.headers["webhook-id"])
            return by_event

        async def tracked() -> int:
            known = 0
            for pid in injected.registered:
                timeline = await http.get(f"{urls['milestone']}/v1/projects/{pid}/timeline")
                known += timeline.status_code == 200
            return known

        async def started() -> int:
            count = 0
            for pid in injected.staged:
                project = (await http.get(f"{urls['registry']}/v1/projects/{pid}")).json()
                count += project["stage"] == "UNDER_CONSTRUCTION"
            return count

        async def dead_letters() -> int:
            letters = 0
            for topic in ("sanpi.projects.dlq", "sanpi.milestones.dlq"):
                letters += len(await read_dead_letters(outage.broker.bootstrap, topic))
            return letters

        deadline = time.monotonic() + 120
        while True:
            applied = (len(set(notified()) & injected.event_ids), await tracked(), await started())
            expected = (len(injected.event_ids), len(injected.registered), len(injected.staged))
            if applied == expected or time.monotonic() > deadline:
                break
            if await dead_letters():  # never to be applied: no use waiting for them
                break
            await asyncio.sleep(1)
        recovered_s = time.monotonic() - outage_over

        after = {name: (await http.get(f"{url}/metrics")).text for name, url in urls.items()}
        by_event = notified()
        await unsubscribe(http, urls["notification"], subscription)

    def grew(name: str, metric: str) -> int:
        return int(metric_sum(after[name], metric) - metric_sum(before[name], metric))

    return {
        "outage_s": int(seconds),
        "events_injected": len(injected.event_ids),
        "notified": len(set(by_event) & injected.event_ids),
        "notified_twice": sum(1 for hooks in by_event.values() if len(hooks) > 1),
        "tracked_by_milestone": applied[1],
        "registrations": len(injected.registered),
        "stages_in_registry": applied[2],
        "stage_changes": len(injected.staged),
        "dead_lettered": await dead_letters(),
        "lost": len(injected.event_ids - set(by_event)),
        "recovered_in_s": int(recovered_s),
        **{
            f"transient_failures_{name}": grew(name, "sanpi_consumer_transient_failures_total")
            for name in stack.SERVICES
        },
        "consumers_replaced_by_watchdog": sum(
            outage.services.log(name).count("replacing the consumer") for name in stack.SERVICES
        ),
    }


def check(counts: dict[str, int]) -> None:
    assert counts["dead_lettered"] == 0, counts
    assert counts["lost"] == 0, counts
    assert counts["notified_twice"] == 0, counts
    assert counts["tracked_by_milestone"] == counts["registrations"], counts
    assert counts["stages_in_registry"] == counts["stage_changes"], counts
    for name in stack.SERVICES:
        # Otherwise the outage missed the consumers and the test says nothing.
        assert counts[f"transient_failures_{name}"] > 0, counts
    assert counts["consumers_replaced_by_watchdog"] == 0, counts


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "seconds", [5, pytest.param(60, marks=pytest.mark.chaos)], ids=["5s", "60s"]
)
async def test_a_database_outage_while_consuming_loses_and_dead_letters_nothing(
    outage: OutageStack, webhook_sink: WebhookSink, seconds: int
) -> None:
    counts = await run_outage(outage, webhook_sink, seconds)
    print(f"\ndatabase outage {seconds} s: {counts}")
    check(counts)


# --- the broker away -------------------------------------------------------------------------

ACHIEVED = "sanpi.milestone.achieved.v1"
BROKER_OUTAGE_S = 60


async def readiness(http: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Each service's /readyz status and what its body says of Kafka."""
    answers = {}
    for name, url in urls.items():
        ready = await http.get(f"{url}/readyz")
        answers[name] = (ready.status_code, ready.json()["checks"].get("kafka", ""))
    return answers


async def metric(http: httpx.AsyncClient, url: str, name: str) -> float:
    return metric_sum((await http.get(f"{url}/metrics")).text, name)


@pytest.mark.timeout(600)
async def test_the_broker_stopped_for_a_minute_takes_no_api_down_and_loses_nothing(
    outage: OutageStack, webhook_sink: WebhookSink
) -> None:
    urls = outage.services.urls
    tag = new_tag()
    async with httpx.AsyncClient(headers=outage.services.headers(), timeout=30) as http:
        subscription = await subscribe(
            http, urls["notification"], webhook_sink, REGISTERED, STAGE_CHANGED, ACHIEVED
        )
        # Known to the milestone service before the broker goes: they start during the outage.
        known = await register_projects(http, urls["registry"], urls["milestone"], 10, tag)

        await asyncio.to_thread(outage.broker.stop)
        stopped_at = time.monotonic()
        not_ready: list[tuple[str, int]] = []
        kafka_said: dict[str, set[str]] = defaultdict(set)
        registered: list[str] = []
        started: list[str] = []
        backlog_peak = {name: 0.0 for name in ("registry", "milestone")}
        connected_low = {name: 1.0 for name in urls}
        second = 0
        while time.monotonic() - stopped_at < BROKER_OUTAGE_S:
            second += 1
            for name, (status, kafka) in (await readiness(http, urls)).items():
                kafka_said[name].add(kafka)
                if status != 200:
                    not_ready.append((name, status))
            # People go on writing: a new project, and a start of construction.
            created = await http.post(
                f"{urls['registry']}/v1/projects",
                json={
                    "name": f"断网测试{tag}-{second:03d}",
                    "park": "双桥",
                    "total_investment": 9_000,
                },
            )
            assert created.status_code == 201, created.text
            registered.append(created.json()["id"])
            if len(started) < len(known):
                project = known[len(started)]
                done = await http.post(
                    f"{urls['milestone']}/v1/projects/{project}/milestones",
                    json={
                        "kind": "STARTED",
                        "date": "2024-03-08",
                        "evidence": [f"https://evidence.example/2024-03-08/{project}.jpg"],
                    },
                )
                assert done.status_code == 201, done.text
                started.append(project)
            for name in backlog_peak:
                backlog_peak[name] = max(
                    backlog_peak[name],
                    await metric(http, urls[name], "sanpi_outbox_backlog"),
                )
            for name, url in urls.items():
                connected_low[name] = min(
                    connected_low[name], await metric(http, url, "sanpi_kafka_connected")
                )
            await asyncio.sleep(max(0.0, stopped_at + second - time.monotonic()))

        await asyncio.to_thread(outage.broker.start)
        back_at = time.monotonic()

        # Everything written meanwhile reaches the subscriber, each event once.
        expected = {(REGISTERED, p) for p in registered}
        expected |= {(t, p) for p in started for t in (STAGE_CHANGED, ACHIEVED)}

        def received() -> dict[tuple[str, str], set[str]]:
            by_event: dict[tuple[str, str], set[str]] = defaultdict(set)
            for hook in webhook_sink.accepted():
                body = json.loads(hook.body)
                by_event[(body["type"], body["subject"])].add(hook.headers["webhook-id"])
            return by_event

        with contextlib.suppress(AssertionError):  # counted and asserted below
            await eventually(
                lambda: expected <= set(received()),
                timeout=180,
                interval=0.5,
                what="every event written during the outage notified",
            )
        published_in_s = time.monotonic() - back_at
        by_event = received()

        async def registry_stages() -> list[str]:
            return [
                (await http.get(f"{urls['registry']}/v1/projects/{p}")).json()["stage"]
                for p in started
            ]

        async def registry_caught_up() -> bool:
            return await registry_stages() == ["UNDER_CONSTRUCTION"] * len(started)

        # The registry's projection reads the same topic with a consumer of its own: after the
        # broker comes back it rejoins its group on its own schedule, so the subscriber may hear
        # of a start before the registry shows it. Nothing may be lost: it catches up.
        with contextlib.suppress(AssertionError):
            await eventually(
                registry_caught_up, timeout=120, interval=0.5, what="registry stages caught up"
            )
        registry_in_s = time.monotonic() - back_at
        stages = await registry_stages()

        async def kafka_ok_again() -> dict[str, tuple[int, str]] | None:
            answers = await readiness(http, urls)
            return answers if all(a == (200, "ok") for a in answers.values()) else None

        # Each service asks the broker every 5 s: it says "ok" again within one check.
        with contextlib.suppress(AssertionError):
            await eventually(kafka_ok_again, timeout=30, interval=0.5, what="kafka ok again")
        after = await readiness(http, urls)
        await unsubscribe(http, urls["notification"], subscription)

    counts = {
        "outage_s": BROKER_OUTAGE_S,
        "readyz_not_200": len(not_ready),
        "registrations": len(registered),
        "starts": len(started),
        "outbox_peak_registry": int(backlog_peak["registry"]),
        "outbox_peak_milestone": int(backlog_peak["milestone"]),
        "events_expected": len(expected),
        "events_notified": len(expected & set(by_event)),
        "notified_twice": sum(
            1 for (t, p), hooks in by_event.items() if (t, p) in expected and len(hooks) > 1
        ),
        "published_in_s": int(published_in_s),
        "registry_in_s": int(registry_in_s),
    }
    print(f"\nbroker stopped {BROKER_OUTAGE_S} s: {counts}")
    assert not_ready == [], f"readiness failed with the broker away: {not_ready[:5]}"
    for name in urls:
        assert any(said.startswith("unavailable") for said in kafka_said[name]), kafka_said
        assert connected_low[name] == 0, f"{name}: sanpi_kafka_connected never said so"
        assert after[name] == (200, "ok"), after
    # The outbox grew with every write (the gauge is refreshed every 5 s, Kafka or not).
    assert backlog_peak["registry"] >= len(registered) - 10, counts
    assert backlog_peak["milestone"] >= 2 * len(started), counts
    assert counts["events_notified"] == counts["events_expected"], counts
    assert counts["notified_twice"] == 0, counts
    assert stages == ["UNDER_CONSTRUCTION"] * len(started)
