"""Faults under load: the broker, then each service, is SIGKILLed while 2,000 milestone updates and
progress reports stream in, and restarted. Every accepted write must reach every projection and
each event must give the subscriber exactly one notification. Each test prints what it counted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from sanpi.events import header_id, header_type
from scripts import stack
from tests.conftest import Broker, Postgres, Stack, running_stack, start_broker
from tests.support.kafka import read_until
from tests.support.sink import WebhookSink
from tests.support.stream import Write, new_tag, register_projects, stream, writes_for
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PROJECTS = 40  # x 50 writes = 2,000
EVENT_TYPES = (
    "sanpi.milestone.achieved.v1",
    "sanpi.project.stage_changed.v1",
    "sanpi.progress.reported.v1",
)


@dataclass
class FaultStack:
    broker: Broker
    services: Stack
    directory: Path

    def kill(self, name: str) -> None:
        pid = stack.read_pid(self.directory / "pids" / f"{name}.pid", f"sanpi.{name}")
        assert pid is not None, f"{name} is not running"
        os.kill(pid, signal.SIGKILL)  # no shutdown hook runs: as if the machine lost power
        stack.stop_pidfile(self.directory / "pids" / f"{name}.pid", f"sanpi.{name}", grace=10)

    def restart(self, name: str) -> None:
        port = int(self.services.urls[name].rsplit(":", 1)[1])
        pid = stack.start_service(name, port=port, env=self.services.env, run_dir=self.directory)
        stack.wait_ready(self.services.urls[name], timeout=90, pid=pid, marker=f"sanpi.{name}")


@pytest.fixture(scope="module")
def faults(run_dir: Path, postgres: Postgres | None) -> Iterator[FaultStack]:
    directory = run_dir / "faults"
    broker = start_broker(directory / "kafka")
    env = {
        # The stream measures delivery, not the rules: no evaluation after every report.
        "SANPI_MILESTONE_EVALUATE_ON_EVENTS": "false",
        # A delivery claimed by a killed worker is retried after 3 s, not the default minute.
        "SANPI_NOTIFICATION_DELIVERY_LEASE_S": "3",
        # A consumer silent after the broker's restart is replaced after 20 s, not a minute.
        "SANPI_CONSUMER_STALL_S": "20",
    }
    try:
        with running_stack(
            broker.bootstrap, directory, postgres, database_prefix="faults", extra_env=env
        ) as services:
            yield FaultStack(broker, services, directory)
    finally:
        broker.stop()


async def run_scenario(
    faults: FaultStack, sink: WebhookSink, fault: Callable[[], Awaitable[None]]
) -> dict[str, int]:
    """Subscribes `sink`, runs the stream with `fault` midway, and unsubscribes whatever happened:
    the stack is shared by the module, and a scenario's subscription left behind would have every
    later scenario retry deliveries to its closed sink."""
    notification = faults.services.urls["notification"]
    async with httpx.AsyncClient(headers=faults.services.headers(), timeout=30) as http:
        subscribed = await http.post(
            f"{notification}/v1/subscriptions",
            json={"channel": "webhook", "url": sink.url, "event_types": list(EVENT_TYPES)},
        )
        assert subscribed.status_code == 201, subscribed.text
        try:
            return await _stream_with_fault(faults, sink, fault)
        except AssertionError:
            # The run's logs are kept: they then say where each service was waiting.
            await faults.services.dump_stacks()
            raise
        finally:
            gone = await http.delete(f"{notification}/v1/subscriptions/{subscribed.json()['id']}")
            assert gone.status_code == 204, gone.text


async def _stream_with_fault(
    faults: FaultStack, sink: WebhookSink, fault: Callable[[], Awaitable[None]]
) -> dict[str, int]:
    urls = faults.services.urls
    async with httpx.AsyncClient(headers=faults.services.headers(), timeout=30) as http:
        ids = await register_projects(
            http, urls["registry"], urls["milestone"], PROJECTS, new_tag()
        )
        midway = asyncio.Event()
        running = asyncio.create_task(
            stream(
                http,
                urls["milestone"],
                [writes_for(pid) for pid in ids],
                progress=midway,
                progress_at=500,
            )
        )
        await asyncio.wait_for(midway.wait(), timeout=300)
        await fault()
        result = await running
        assert result.refused == {}, f"writes refused: {result.refused}"
        assert result.accepted == PROJECTS * 50

        # 1. The milestone service holds every accepted write.
        for pid in ids:
            reports = (
                await http.get(
                    f"{urls['milestone']}/v1/projects/{pid}/progress", params={"limit": 100}
                )
            ).json()
            assert len(reports["items"]) == 48, pid

        # 2. The registry's stage projection followed every start.
        async def all_started() -> bool:
            for pid in ids:
                project = (await http.get(f"{urls['registry']}/v1/projects/{pid}")).json()
                if project["stage"] != "UNDER_CONSTRUCTION":
                    return False
            return True

        await eventually(all_started, timeout=120, interval=0.5, what="registry projection current")

    # 3. Kafka holds every event (the outbox may publish one twice after a crash: at least once).
    keys = {pid.encode() for pid in ids}
    expected = PROJECTS * 51  # STARTED gives achieved + stage_changed; 48 reports; TOPPED_OUT

    def mine(records: list) -> list:  # type: ignore[type-arg]
        return [r for r in records if r.key in keys and header_type(r.headers) in EVENT_TYPES]

    records = mine(
        await read_until(
            faults.broker.bootstrap,
            "sanpi.milestones",
            lambda rs: len({header_id(r.headers) for r in mine(rs)}) >= expected,
            timeout=120,
        )
    )
    event_ids = {header_id(r.headers) for r in records}
    assert len(event_ids) == expected

    # 4. The subscriber: each event in exactly one notification (one webhook-id).
    def notifications() -> dict[str, set[str]]:
        by_event: dict[str, set[str]] = defaultdict(set)
        for received in sink.accepted():
            by_event[json.loads(received.body)["id"]].add(received.headers["webhook-id"])
        return by_event

    await eventually(
        lambda: len(notifications()) >= expected,
        timeout=180,
        interval=0.5,
        what=f"{expected} events notified",
    )
    by_event = notifications()
    assert set(by_event) == event_ids
    assert all(len(hooks) == 1 for hooks in by_event.values()), "an event in two notifications"
    accepted_posts = len(sink.accepted())
    counts = {
        "writes_accepted": result.accepted,
        "write_retries": result.attempts - result.accepted,
        "events": len(event_ids),
        "events_published_twice": len(records) - len(event_ids),
        "notified": len(by_event),
        "notifications_resent": accepted_posts - len(by_event),  # same webhook-id again
        "lost": expected - len(by_event),
        "consumers_replaced_by_watchdog": sum(
            faults.services.log(name).count("replacing the consumer") for name in stack.SERVICES
        ),
    }
    return counts


async def test_broker_killed_and_restarted_mid_stream(
    faults: FaultStack, webhook_sink: WebhookSink
) -> None:
    async def kill_broker() -> None:
        faults.broker.kill()
        await asyncio.sleep(3)  # the outage: writes keep being accepted into the outboxes
        await asyncio.to_thread(faults.broker.start)

    counts = await run_scenario(faults, webhook_sink, kill_broker)
    print(f"\nbroker SIGKILL: {counts}")
    assert counts["lost"] == 0


# make test keeps the milestone service's case (it consumes and produces, and evaluates); the
# registry's and the notification service's take ~75 and ~100 s each, in make chaos.
@pytest.mark.parametrize(
    "service",
    [
        "milestone",
        pytest.param("registry", marks=pytest.mark.chaos),
        pytest.param("notification", marks=pytest.mark.chaos),
    ],
)
async def test_each_service_killed_and_restarted_mid_stream(
    faults: FaultStack, webhook_sink: WebhookSink, service: str
) -> None:
    async def kill_service() -> None:
        await asyncio.to_thread(faults.kill, service)
        await asyncio.to_thread(faults.restart, service)

    counts = await run_scenario(faults, webhook_sink, kill_service)
    print(f"\n{service} SIGKILL: {counts}")
    assert counts["lost"] == 0


async def test_sigterm_finishes_requests_flushes_the_outbox_and_commits_offsets(
    faults: FaultStack,
) -> None:
    urls = faults.services.urls
    pidfile = faults.directory / "pids" / "milestone.pid"
    async with httpx.AsyncClient(headers=faults.services.headers(), timeout=30) as http:
        ids = await register_projects(http, urls["registry"], urls["milestone"], 10, new_tag())
        for pid in ids:
            started = writes_for(pid)[0]
            done = await http.post(
                f"{urls['milestone']}/v1/projects/{pid}/milestones", json=started.body
            )
            assert done.status_code == 201, done.text
        reports = [
            w for pid in ids for w in writes_for(pid)[1:31]
        ]  # 300 reports, any order is valid
        answered = asyncio.Event()
        outcomes: dict[str, str] = {}

        async def send(write: Write) -> None:
            try:
                response = await http.post(
                    f"{urls['milestone']}/v1/projects/{write.project_id}/progress",
                    json=write.body,
                    headers={"Idempotency-Key": write.key},
                )
                outcomes[write.key] = str(response.status_code)
            except httpx.TransportError as exc:
                outcomes[write.key] = type(exc).__name__
            if len(outcomes) >= 50:
                answered.set()

        sending = [asyncio.create_task(send(w)) for w in reports]
        await asyncio.wait_for(answered.wait(), timeout=120)
        server = stack.read_pid(pidfile, "sanpi.milestone")
        assert server is not None
        os.kill(server, signal.SIGTERM)
        await asyncio.gather(*sending)
        await asyncio.to_thread(stack.stop_pidfile, pidfile, "sanpi.milestone", grace=60)

        accepted = {k for k, v in outcomes.items() if v == "201"}
        refused = {k: v for k, v in outcomes.items() if v != "201"}
        assert all(
            v in ("ConnectError", "RemoteProtocolError", "ReadError") for v in refused.values()
        ), refused

        # The outbox was flushed before the process ended: every accepted report is on Kafka.
        keys = {pid.encode() for pid in ids}
        records = await read_until(
            faults.broker.bootstrap,
            "sanpi.milestones",
            lambda rs: (
                sum(
                    1
                    for r in rs
                    if r.key in keys and header_type(r.headers) == "sanpi.progress.reported.v1"
                )
                >= len(accepted)
            ),
            timeout=30,
        )
        published = {
            f"{json.loads(r.value)['subject']}-{json.loads(r.value)['data']['period_key']}"
            for r in records
            if r.key in keys and header_type(r.headers) == "sanpi.progress.reported.v1"
        }
        assert published == accepted, "accepted but not published, or published but not accepted"

        # Offsets were committed: the group is at the end of the topic it consumes.
        assert await committed_to_end(faults.broker.bootstrap, "sanpi-milestone", "sanpi.projects")

        await asyncio.to_thread(faults.restart, "milestone")
        in_db = set()
        for pid in ids:
            items = (
                await http.get(
                    f"{urls['milestone']}/v1/projects/{pid}/progress", params={"limit": 100}
                )
            ).json()["items"]
            in_db |= {f"{pid}-{item['period_key']}" for item in items}
        assert in_db == accepted, "nothing half-written: exactly the answered reports are stored"
    print(
        f"\nmilestone SIGTERM: {{'sent': {len(reports)}, 'accepted': {len(accepted)}, "
        f"'refused_before_processing': {len(refused)}, 'published': {len(published)}, 'stored': {len(in_db)}}}"
    )


async def committed_to_end(bootstrap: str, group: str, topic: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or set()]
        if not partitions:
            await reader.topics()
            partitions = [
                TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or set()
            ]
        ends = await reader.end_offsets(partitions)
        return all(
            committed.get(tp) is not None and committed[tp].offset == ends[tp]
            for tp in partitions
            if ends[tp]
        )
    finally:
        await reader.stop()
        await admin.close()
