"""A fault run against replicated services: the lifecycle stream over every milestone replica, a
fault schedule struck while it runs, then the whole-history check (tests/support/history.py)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from sanpi.events import header_type
from tests.support.history import History, Report, Seen
from tests.support.kafka import header, read_all
from tests.support.replicas import ChaosWorld, Replica
from tests.support.schedule import BROKER, POSTGRES, Fault
from tests.support.sink import WebhookSink
from tests.support.stream import (
    STAGES_OF_LIFECYCLE,
    StreamResult,
    Write,
    lifecycle_writes_for,
    new_tag,
    register_projects,
    stream,
)
from tests.support.waiting import eventually

EVENT_TYPES = (
    "sanpi.milestone.achieved.v1",
    "sanpi.project.stage_changed.v1",
    "sanpi.progress.reported.v1",
)
TOPIC = "sanpi.milestones"
REPORTS = sum(1 for w in lifecycle_writes_for("p") if w.path == "progress")  # accepted, so stored
DEAD_LETTER_TOPICS = ("sanpi.projects.dlq", "sanpi.milestones.dlq", "sanpi.alerts.dlq")


# One line per fault run of this session, for the summary at the end (tests/conftest.py): a
# passing test's output is not shown, and these counts are what a run is for.
REPORTED: list[str] = []


@dataclass
class Run:
    """What a scenario did and found."""

    report: Report
    stream: StreamResult | None = None
    struck: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        accepted = self.stream.accepted if self.stream else 0
        return {"accepted": accepted, **self.report.summary(), "seconds": self.seconds}

    def headline(self) -> str:
        c = self.report.counts
        accepted = self.stream.accepted if self.stream else 0
        return (
            f"accepted {accepted} / delivered {c['delivered']} / duplicated {c['duplicated']} / "
            f"lost {c['lost']} / out-of-order {c['out_of_order']} (resent {c['resent']}, "
            f"published twice {c['topic_copies']}, dead-lettered {c['dead_letters']})"
        )


def restart_until_ready(world: ChaosWorld, replica: Replica, deadline_s: float = 240) -> None:
    """Starts a killed replica again, as a Kubernetes restart would: a start that fails (the
    database away while it migrates) is tried again until the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        pid = world.services.start(replica)
        try:
            world.services.wait_ready(replica, pid, timeout=max(1.0, end - time.monotonic()))
            return
        except RuntimeError:  # exited during start-up
            if time.monotonic() > end:
                raise
            time.sleep(1)


def heal(world: ChaosWorld) -> list[str]:
    """Starts whatever an earlier, failed scenario left down; returns what it started."""
    started = []
    if world.broker.pid() is None:
        world.broker.start()
        started.append(BROKER)
    if world.postgres.script("status").returncode != 0:
        world.postgres.start()
        started.append(POSTGRES)
    for replica in world.services.all():
        if world.services.pid(replica) is None:
            restart_until_ready(world, replica)
            started.append(replica.name)
    return started


# Starts and stops block (a replica's restart waits for its readiness, which waits for the
# database): each gets a thread of its own. On the loop's default executor (6 threads here),
# replicas waiting for PostgreSQL took every thread and PostgreSQL's own start waited behind them.
_BLOCKING = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fault")


async def _blocking(work: Callable[..., object], *args: object) -> None:
    await asyncio.get_running_loop().run_in_executor(_BLOCKING, functools.partial(work, *args))


async def strike(world: ChaosWorld, fault: Fault) -> str:
    """Kills the fault's target, waits its down time, starts it again; says what it did."""
    began = time.monotonic()
    if fault.target == BROKER:
        world.broker.kill()
        await asyncio.sleep(fault.down_s)
        await _blocking(world.broker.start)
    elif fault.target == POSTGRES:
        await _blocking(world.postgres.crash)
        await asyncio.sleep(fault.down_s)
        await _blocking(world.postgres.start)
    else:
        replica = next(r for r in world.services.all() if r.name == fault.target)
        await _blocking(world.services.kill, replica)
        await asyncio.sleep(fault.down_s)
        await _blocking(restart_until_ready, world, replica)
    return f"{fault} (back after {time.monotonic() - began:.1f}s)"


async def run_faults(
    world: ChaosWorld, faults: Sequence[Fault], accepted: Callable[[], int]
) -> list[str]:
    """Strikes each fault once `accepted()` reaches its threshold, in schedule order; faults on
    different parts overlap, one part is struck again only once it is back."""
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def one(fault: Fault) -> str:
        async with locks[fault.target]:
            return await strike(world, fault)

    running = []
    for fault in faults:
        await eventually(
            lambda fault=fault: accepted() >= fault.at,  # type: ignore[misc]
            timeout=900,
            interval=0.05,
            what=f"{fault.at} writes accepted",
        )
        running.append(asyncio.create_task(one(fault)))
    return list(await asyncio.gather(*running))


async def watch_stages(
    http: httpx.AsyncClient,
    registry: Sequence[str],
    tag: str,
    samples: dict[str, list[str]],
    stop: asyncio.Event,
) -> None:
    """Reads every project's stage from the registry again and again, one request after the
    other, until `stop`: the observations are in the order the registry showed them."""
    rng = random.Random(0)
    while not stop.is_set():
        url = rng.choice(list(registry))
        try:
            answer = await http.get(
                f"{url}/v1/projects", params={"q": tag, "limit": 100}, timeout=5
            )
            if answer.status_code == 200:
                for item in answer.json()["items"]:
                    samples[item["id"]].append(item["stage"])
        except httpx.TransportError:
            pass  # a replica down, or the database: the next round asks another
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.3)


async def read_stream_log(
    http: httpx.AsyncClient, notification: str, ids: Sequence[str], expected: int, timeout: float
) -> list[dict[str, Any]]:
    """The notification stream log's events of these projects from position 0 (SSE), until
    `expected` distinct events came or `timeout` passed."""
    params = httpx.QueryParams({"event_type": list(EVENT_TYPES), "project_id": list(ids)})
    events: list[dict[str, Any]] = []
    distinct: set[str] = set()

    async def read() -> None:
        async with http.stream(
            "GET",
            f"{notification}/v1/stream",
            params=params,
            headers={"Last-Event-ID": "0"},
            timeout=httpx.Timeout(10, read=30),
        ) as response:
            assert response.status_code == 200, await response.aread()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:].strip())
                    events.append(event)
                    distinct.add(event["id"])
                    if len(distinct) >= expected:
                        return

    with contextlib.suppress(TimeoutError):  # the check counts what is missing
        await asyncio.wait_for(read(), timeout)
    return events


def _ours(records: list[Any], keys: set[bytes]) -> list[Seen]:
    return [
        Seen.of(json.loads(r.value))
        for r in records
        if r.key in keys and header_type(r.headers) in EVENT_TYPES
    ]


async def converge(
    what: str, report: Report, probe: Callable[[], Awaitable[bool]], timeout: float
) -> float:
    """Waits for `probe`; a wait that runs out is reported (the checks then count what is
    missing) rather than raised, so that the run still says everything it found."""
    began = time.monotonic()
    try:
        await eventually(probe, timeout=timeout, interval=1.0, what=what)
    except AssertionError as exc:
        report.problems.append(f"did not converge: {exc}")
    return round(time.monotonic() - began, 1)


async def run_scenario(
    world: ChaosWorld,
    sink: WebhookSink,
    faults: Sequence[Fault],
    *,
    projects: int = 40,
    seed: int = 0,
    converge_s: float = 300,
) -> Run:
    """Registers `projects` projects, streams their lifecycle writes over the milestone replicas
    while `faults` strike, waits until everything settled, and checks every history."""
    services = world.services
    rng = random.Random(seed)
    headers = services.headers()
    tag = new_tag()
    run = Run(Report())
    report = run.report
    notification = services.urls("notification")
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        subscribed = await http.post(
            f"{notification[0]}/v1/subscriptions",
            json={"channel": "webhook", "url": sink.url, "event_types": list(EVENT_TYPES)},
        )
        assert subscribed.status_code == 201, subscribed.text
        subscription = subscribed.json()["id"]
        try:
            ids = await register_projects(
                http, services.urls("registry")[0], services.urls("milestone")[0], projects, tag
            )
            committed: dict[str, list[Write]] = {pid: lifecycle_writes_for(pid) for pid in ids}
            samples: dict[str, list[str]] = defaultdict(list)
            stop = asyncio.Event()
            watching = asyncio.create_task(
                watch_stages(http, services.urls("registry"), tag, samples, stop)
            )
            accepted = 0

            def count(n: int) -> None:
                nonlocal accepted
                accepted = n

            replaced_before = services.consumers_replaced()
            began = time.monotonic()
            streaming = asyncio.create_task(
                stream(
                    http,
                    services.urls("milestone"),
                    list(committed.values()),
                    rng=rng,
                    on_accepted=count,
                )
            )
            striking = asyncio.create_task(run_faults(world, faults, lambda: accepted))
            history = History(committed, report)
            try:
                try:
                    run.stream = await streaming
                    run.struck = await striking
                finally:
                    for task in (streaming, striking):
                        task.cancel()
                    await asyncio.gather(streaming, striking, return_exceptions=True)
                run.seconds["stream"] = round(time.monotonic() - began, 1)
                await _settle_and_check(world, http, sink, history, run, tag, ids, converge_s)
            finally:
                stop.set()
                await watching
            history.stages(samples, STAGES_OF_LIFECYCLE)
            run.seconds["total"] = round(time.monotonic() - began, 1)
            report.counts["consumers_replaced_by_watchdog"] = (
                services.consumers_replaced() - replaced_before
            )
            report.counts["writes_confirmed_after_retry"] = run.stream.confirmed_after_retry
            report.counts["write_retries"] = run.stream.attempts - run.stream.accepted
        finally:
            gone = await http.delete(f"{notification[0]}/v1/subscriptions/{subscription}")
            assert gone.status_code == 204, gone.text
    return run


async def _settle_and_check(
    world: ChaosWorld,
    http: httpx.AsyncClient,
    sink: WebhookSink,
    history: History,
    run: Run,
    tag: str,
    ids: Sequence[str],
    converge_s: float,
) -> None:
    report = run.report
    keys = {pid.encode() for pid in ids}
    bootstrap = world.broker.bootstrap
    expected = history.expected_events
    records: list[Seen] = []

    async def topic_complete() -> bool:
        nonlocal records
        records = _ours(await read_all(bootstrap, TOPIC), keys)
        return len({(s.project_id, s.signature) for s in records}) >= expected

    run.seconds["topic"] = await converge("every event on the topic", report, topic_complete, 180)
    history.topic(records)
    reference = {e for events in history.reference.values() for e in events}

    def delivered() -> bool:
        got = {json.loads(r.body).get("id") for r in sink.accepted()}
        return reference <= got

    run.seconds["webhooks"] = await converge(
        "every event at the webhook receiver", report, _as_async(delivered), converge_s
    )
    registry = world.services.urls("registry")
    milestone = world.services.urls("milestone")

    async def registry_final() -> bool:
        listed = await http.get(f"{registry[0]}/v1/projects", params={"q": tag, "limit": 100})
        stages = {p["id"]: p["stage"] for p in listed.json()["items"]}
        return all(stages.get(pid) == STAGES_OF_LIFECYCLE[-1] for pid in ids)

    run.seconds["registry"] = await converge(
        "the registry's stages current", report, registry_final, 120
    )
    history.sink(sink.snapshot())
    log = await read_stream_log(
        http, world.services.urls("notification")[0], ids, len(reference), 60
    )
    history.stream_log(log)
    wrong_registry = []
    wrong_milestone = []
    for pid in ids:
        project = (await http.get(f"{registry[0]}/v1/projects/{pid}")).json()
        got = (project["stage"], project["started_date"], project["production_date"])
        if got != ("IN_PRODUCTION", "2023-12-01", "2024-12-20"):
            wrong_registry.append(f"{pid}: {got}")
        timeline = (
            await http.get(f"{milestone[0]}/v1/projects/{pid}/timeline", params={"limit": 1})
        ).json()
        reports = (
            await http.get(f"{milestone[0]}/v1/projects/{pid}/progress", params={"limit": 100})
        ).json()["items"]
        stored = (timeline["stage"], len(reports))
        if stored != ("IN_PRODUCTION", REPORTS):
            wrong_milestone.append(f"{pid}: stage and reports {stored}")
    history.end_state("registry", wrong_registry)
    history.end_state("milestone", wrong_milestone)
    dead = 0
    for topic in DEAD_LETTER_TOPICS:
        letters = [r for r in await read_all(bootstrap, topic) if r.key in keys]
        dead += len(letters)
        for letter in letters[:5]:
            report.problems.append(
                f"dead letter on {topic}: {header_type(letter.headers)} {header(letter, 'dlq_consumer')}: "
                f"{(header(letter, 'dlq_error') or '')[:200]}"
            )
    report.counts["dead_letters"] += dead


def _as_async(probe: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def run() -> bool:
        return probe()

    return run
