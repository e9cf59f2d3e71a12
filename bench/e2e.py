"""End to end: progress reports posted open-loop at rising rates, until signed webhooks arrive.

Two modes: single updates (POST /v1/projects/{id}/progress, one report a request) and batches
(POST /v1/progress/batch, N reports of N projects a request, the portal's 旬报 page); in batch mode
the rate still counts reports, and each batch's end-to-end time runs from its POST to the last of
its webhooks.

The three services run as processes on the run's broker and database, as `make up` runs them. A
load generator (its own process, bench/loadgen.py) posts progress reports to the milestone service
on schedule; a webhook sink in this process verifies each delivery's signature and records when
it arrived. Latency runs from the POST's scheduled send to the webhook's arrival. A rate counts as
sustained when every request was accepted, every report was delivered, and the backlog (scheduled
but not yet delivered) did not grow over the step: its least-squares slope stays under
SLOPE_LIMIT of the rate.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hmac
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import RESULTS, BenchResult, ProcessCost, percentile, process_cost
from sanpi.kit import Role, issue_token
from sanpi.notification.channels.webhook import sign
from scripts import stack

SERVICES = ("registry", "milestone", "notification")
EVENT_TYPE = "sanpi.progress.reported.v1"
SLOPE_LIMIT = 0.02  # backlog may grow by at most 2 % of the offered rate per second
DRAIN_S = 30.0  # after the last POST, how long deliveries may take to catch up


@dataclass
class Sink:
    """Receives the webhooks: verifies the signature, records arrival per (project, period)."""

    secret: str = ""
    arrivals: dict[tuple[str, str], float] = field(default_factory=dict)
    bad_signatures: int = 0
    duplicates: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        at = time.time()
        body = await request.read()
        expected = sign(
            self.secret,
            request.headers["webhook-id"],
            int(request.headers["webhook-timestamp"]),
            body,
        )
        offered = request.headers.get("webhook-signature", "").split()
        if not any(hmac.compare_digest(expected, s) for s in offered):
            self.bad_signatures += 1
            return web.Response(status=401)
        data = json.loads(body)["data"]
        key = (data["project_id"], data["period_key"])
        if key in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[key] = at
        return web.Response(status=204)


@dataclass
class Step:
    rate: float
    batch: int | None  # reports a request; None: single updates
    duration_s: float
    accepted: int
    failed: int
    skipped: int
    delivered: int
    undelivered: int
    latencies_s: list[float]
    post_p99_s: float
    backlog_slope: float  # reports per second
    delivered_per_s: float
    cost: dict[str, ProcessCost]
    # Batch mode: each fully delivered batch's time from its POST to its last webhook.
    batch_latencies_s: list[float] = field(default_factory=list)

    @property
    def sustained(self) -> bool:
        return (
            self.failed == 0
            and self.skipped == 0
            and self.undelivered == 0
            and self.backlog_slope <= SLOPE_LIMIT * self.rate
        )


def backlog_slope(sent: list[float], arrived: list[float], start: float, end: float) -> float:
    """Least-squares slope (per second) of scheduled-minus-delivered between `start` and `end`,
    sampled every 0.1 s."""
    sent, arrived = sorted(sent), sorted(arrived)
    xs, ys = [], []
    t = start
    while t <= end:
        xs.append(t - start)
        ys.append(bisect.bisect_right(sent, t) - bisect.bisect_right(arrived, t))
        t += 0.1
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


async def _wait(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def _register(http: aiohttp.ClientSession, urls: dict[str, str], count: int) -> list[str]:
    """`count` projects in the registry, then waits until the milestone service knows them all."""
    ids: list[str] = []
    gate = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        async with (
            gate,
            http.post(
                f"{urls['registry']}/v1/projects",
                json={
                    "name": f"压测项目-{i:05d}",
                    "park": ("梧桐", "双桥", "石佛", "枫杨")[i % 4],
                    "total_investment": 1_000_000,
                    "signed_date": "2017-06-01",
                    "planned_start_date": "2018-01-01",
                },
            ) as response,
        ):
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"creating a project: {response.status} {body}")
            ids.append(body["id"])

    await asyncio.gather(*(one(i) for i in range(count)))
    pending = set(ids)

    async def all_known() -> bool:
        for pid in list(pending):
            async with http.get(f"{urls['milestone']}/v1/projects/{pid}/timeline?limit=1") as r:
                if r.status != 200:
                    return False
                pending.discard(pid)
        return True

    await _wait(all_known, timeout=180, what=f"the milestone service knowing {count} projects")
    return ids


async def _step(
    *,
    urls: dict[str, str],
    sink: Sink,
    pids: dict[str, int],
    rate: float,
    duration_s: float,
    first: int,
    files: Path,
    batch: int | None = None,
) -> Step:
    out = files / f"load-{int(rate)}-{batch or 1}.json"
    before = {name: process_cost(pid) for name, pid in pids.items()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen",
        "--milestone", urls["milestone"],
        "--token-file", str(files / "token"),
        "--projects", str(files / "projects.json"),
        "--rate", str(rate),
        "--duration", str(duration_s),
        "--first", str(first),
        "--out", str(out),
        *(("--batch", str(batch)) if batch else ()),
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait() != 0:
        raise RuntimeError(f"the load generator failed at {rate}/s (exit {proc.returncode})")
    load = json.loads(out.read_text())
    accepted = [(p, k, sent) for p, k, sent, _done, status, *_ in load["records"] if status == 201]
    keys = [(p, k) for p, k, _ in accepted]

    async def drained() -> bool:
        return all(key in sink.arrivals for key in keys)

    with contextlib.suppress(TimeoutError):  # what did not arrive counts as undelivered
        await _wait(drained, timeout=DRAIN_S, what="deliveries catching up")
    after = {name: process_cost(pid) for name, pid in pids.items()}
    latencies = [sink.arrivals[(p, k)] - sent for p, k, sent in accepted if (p, k) in sink.arrivals]
    sent_times = [sent for _, _, sent in accepted]
    arrived = [sink.arrivals[key] for key in keys if key in sink.arrivals]
    start = min(sent_times, default=0.0)
    end = start + duration_s
    # The first moments fill the pipeline (backlog rises from 0 to rate x latency) in every
    # case; growth is judged after them.
    settled = start + min(duration_s / 4, 10.0)
    in_window = [a for a in arrived if a <= end]
    batches: dict[int, list[tuple[str, str, float]]] = {}
    for p, k, sent, _done, status, *which in load["records"]:
        if which and status == 201:
            batches.setdefault(which[0], []).append((p, k, sent))
    batch_latencies = [
        max(sink.arrivals[(p, k)] for p, k, _ in rows) - rows[0][2]
        for rows in batches.values()
        if all((p, k) in sink.arrivals for p, k, _ in rows)
    ]
    return Step(
        rate=rate,
        batch=batch,
        duration_s=duration_s,
        accepted=len(accepted),
        failed=load["failed"],
        skipped=load["skipped"],
        delivered=len(arrived),
        undelivered=len(accepted) - len(arrived),
        latencies_s=latencies,
        post_p99_s=percentile(load["latencies_s"], 99),
        backlog_slope=backlog_slope(sent_times, arrived, settled, end),
        delivered_per_s=len(in_window) / duration_s,
        cost={
            name: ProcessCost(
                after[name].cpu_seconds - before[name].cpu_seconds, after[name].peak_rss_mb
            )
            for name in pids
        },
        batch_latencies_s=batch_latencies,
    )


async def run(
    *,
    run_dir: Path,
    bootstrap: str,
    database_urls: dict[str, str],
    broker_pid: int | None,
    rates: list[float],
    step_s: float,
    projects: int,
    profile: bool = False,
    batch_sizes: Sequence[int] = (),
    name: str = "e2e",
) -> BenchResult:
    """Starts the services, loads `projects`, then runs one step per rate until one is not
    sustained: single updates, or, with `batch_sizes`, batches of each size in turn (rates
    rising again for each). `database_urls` maps a service to its URL (empty: SQLite under
    run_dir). With `profile` each service runs under pyinstrument (bench.profiled), its report
    written to .run/bench/<name>-<service>.profile.txt when it stops; the figures then carry its
    overhead."""
    files = run_dir / name
    files.mkdir(parents=True, exist_ok=True)
    secret = stack.jwt_secret(files)
    env = stack.service_env(secret, bootstrap, files / "data")
    for service, url in database_urls.items():
        env[f"SANPI_{service.upper()}_DATABASE_URL"] = url
    ports = {service: stack.free_port() for service in SERVICES}
    profiles = {s: RESULTS / f"{name}-{s}.profile.txt" for s in SERVICES if profile}
    pids = {
        service: stack.start_service(
            service,
            port=ports[service],
            env=env,
            run_dir=files,
            launcher=("-m", "bench.profiled", str(profiles[service])) if profile else (),
        )
        for service in SERVICES
    }
    urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
    sink = Sink()
    app = web.Application()
    app.router.add_post("/hook", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sink_port = stack.free_port()
    await web.TCPSite(runner, "127.0.0.1", sink_port).start()
    token = issue_token(secret, subject="bench", role=Role.ADMIN)
    (files / "token").write_text(token)
    steps: list[Step] = []
    try:
        for service in SERVICES:
            await asyncio.to_thread(
                stack.wait_ready, urls[service], pid=pids[service], marker=f"sanpi.{service}"
            )
        async with aiohttp.ClientSession(headers={"authorization": f"Bearer {token}"}) as http:
            started = time.monotonic()
            ids = await _register(http, urls, projects)
            print(
                f"  {projects} projects known to every service in {time.monotonic() - started:.1f}s",
                flush=True,
            )
            async with http.post(
                f"{urls['notification']}/v1/subscriptions",
                json={
                    "channel": "webhook",
                    "url": f"http://127.0.0.1:{sink_port}/hook",
                    "event_types": [EVENT_TYPE],
                },
            ) as response:
                created = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"subscribing: {response.status} {created}")
                sink.secret = created["secret"]
        (files / "projects.json").write_text(json.dumps(ids))
        if broker_pid is not None:
            pids = {**pids, "kafka": broker_pid}
        first = 0
        # A short warm-up: connections, caches and the JIT-less interpreter's first imports.
        warm_rate = min(rates[0], 50.0)
        await _step(urls=urls, sink=sink, pids=pids, rate=warm_rate, duration_s=min(step_s, 5.0), first=first, files=files)  # fmt: skip
        first += int(warm_rate * min(step_s, 5.0)) + 1
        modes: list[int | None] = [*batch_sizes] if batch_sizes else [None]
        for batch in modes:
            for rate in rates:
                what = f"in batches of {batch}" if batch else "single updates"
                print(f"  {rate:.0f} updates/s for {step_s:.0f}s, {what} …", flush=True)
                step = await _step(urls=urls, sink=sink, pids=pids, rate=rate, duration_s=step_s, first=first, files=files, batch=batch)  # fmt: skip
                first += int(rate * step_s) + (batch or 1)
                steps.append(step)
                per_batch = (
                    f", p99 per batch {percentile(step.batch_latencies_s, 99) * 1000:.0f} ms"
                    if batch
                    else ""
                )
                print(
                    f"    accepted {step.accepted}, delivered {step.delivered}, p99 "
                    f"{percentile(step.latencies_s, 99) * 1000:.0f} ms{per_batch}, backlog slope "
                    f"{step.backlog_slope:.1f}/s: {'sustained' if step.sustained else 'NOT sustained'}",
                    flush=True,
                )
                if not step.sustained:
                    break
    finally:
        await runner.cleanup()
        for service in SERVICES:
            # Profiled, a service writes its report as it stops: minutes for a long run.
            grace = 300.0 if profile else 25.0
            stack.stop_pidfile(files / "pids" / f"{service}.pid", f"sanpi.{service}", grace=grace)
        for path in profiles.values():
            print(f"  profile: {path}" if path.exists() else f"  no profile written: {path}")
    return _result(name, steps, sink, projects)


def _result(name: str, steps: list[Step], sink: Sink, projects: int) -> BenchResult:
    result = BenchResult(name)
    for s in steps:
        tag = f"batch {s.batch} at {s.rate:.0f}/s" if s.batch else f"at {s.rate:.0f}/s"
        result.add(
            f"{tag} accepted",
            s.accepted / s.duration_s,
            "updates/s",
            f"{s.failed} failed, {s.skipped} not sent",
        )
        result.add(
            f"{tag} delivered",
            s.delivered_per_s,
            "webhooks/s",
            f"{s.undelivered} undelivered after {DRAIN_S:.0f}s",
        )
        for p in (50, 95, 99):
            result.add(
                f"{tag} latency p{p}",
                percentile(s.latencies_s, p) * 1000,
                "ms",
                "POST → signed webhook",
            )
        if s.batch:
            result.add(
                f"{tag} POST p99",
                s.post_p99_s * 1000,
                "ms",
                f"{s.batch} reports a request, POST → answer",
            )
            for p in (50, 99):
                result.add(
                    f"{tag} per batch p{p}",
                    percentile(s.batch_latencies_s, p) * 1000,
                    "ms",
                    "POST → last signed webhook of the batch",
                )
        result.add(
            f"{tag} backlog slope",
            s.backlog_slope,
            "reports/s",
            "sustained" if s.sustained else "NOT sustained",
        )
    for batch in sorted({s.batch for s in steps}, key=lambda b: b or 0):
        mine = [s for s in steps if s.batch == batch]
        best = max((s for s in mine if s.sustained), key=lambda s: s.rate, default=None)
        label = f"batch {batch} " if batch else ""
        result.add(
            f"{label}highest rate sustained",
            best.rate if best else 0.0,
            "updates/s",
            f"{best.duration_s:.0f}s without backlog growth" if best else "none",
        )
        basis = best or (mine[-1] if mine else None)
        if basis is not None:
            for service, cost in basis.cost.items():
                result.add(
                    f"{label}cpu per 1000 updates {service}",
                    cost.cpu_seconds / max(basis.accepted, 1) * 1000,
                    "cpu-s",
                    f"at {basis.rate:.0f}/s",
                )
            for service, cost in basis.cost.items():
                result.add(f"{label}peak rss {service}", cost.peak_rss_mb, "MiB")
    result.details = {
        "projects": projects,
        "bad_signatures": sink.bad_signatures,
        "duplicate_deliveries": sink.duplicates,
        "steps": [
            {
                "rate": s.rate,
                "batch": s.batch,
                "accepted": s.accepted,
                "failed": s.failed,
                "skipped": s.skipped,
                "delivered": s.delivered,
                "undelivered": s.undelivered,
                "post_p99_ms": s.post_p99_s * 1000,
                "backlog_slope": s.backlog_slope,
                "batch_p99_ms": percentile(s.batch_latencies_s, 99) * 1000 if s.batch else None,
                "sustained": s.sustained,
            }
            for s in steps
        ],
    }
    return result
