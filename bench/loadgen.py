"""An open-loop load generator: requests leave on schedule whether or not earlier ones returned,
and latency counts from the scheduled time, so a slow server cannot hide its queue."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvloop


@dataclass
class LoadResult:
    target_rate: float
    duration_s: float
    sent: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # not sent because max_in_flight requests were already waiting
    latencies_s: list[float] = field(default_factory=list)
    send_times: dict[int, float] = field(default_factory=dict)

    @property
    def accepted_per_s(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0


async def open_loop(
    send: Callable[[int], Awaitable[bool]],
    *,
    rate: float,
    duration_s: float,
    max_in_flight: int = 4000,
) -> LoadResult:
    """Calls `send(i)` at `rate` per second for `duration_s`; `send` returns True on success."""
    result = LoadResult(rate, duration_s)
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = int(rate * duration_s)
    in_flight: set[asyncio.Task[None]] = set()

    async def one(i: int, scheduled: float) -> None:
        try:
            ok = await send(i)
        except Exception:
            ok = False
        result.latencies_s.append(loop.time() - scheduled)
        if ok:
            result.ok += 1
        else:
            result.failed += 1

    i = 0
    while i < total:
        now = loop.time()
        due = min(total, int((now - start) * rate) + 1)
        while i < due:
            scheduled = start + i / rate
            if len(in_flight) >= max_in_flight:
                result.skipped += 1
            else:
                result.sent += 1
                result.send_times[i] = time.time() - (loop.time() - scheduled)
                task = asyncio.create_task(one(i, scheduled))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            i += 1
        next_at = start + i / rate
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    if in_flight:
        await asyncio.gather(*in_flight)
    return result


async def closed_loop(
    send: Callable[[int], Awaitable[bool]], *, concurrency: int, duration_s: float
) -> LoadResult:
    """`concurrency` workers sending back to back for `duration_s`: the most a server can take."""
    result = LoadResult(0.0, duration_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s
    counter = iter(range(10**12))

    async def worker() -> None:
        while loop.time() < deadline:
            i = next(counter)
            began = loop.time()
            try:
                ok = await send(i)
            except Exception:
                ok = False
            result.latencies_s.append(loop.time() - began)
            result.sent += 1
            result.ok += ok
            result.failed += not ok

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result


# --- the load generator as its own process (python -m bench.loadgen) ------------------------------


def progress_body(step: int) -> tuple[str, dict[str, object]]:
    """The `step`-th report every project sends: 旬 and months from January 2018 on, each month
    after its 下旬. The cumulative depends only on the period's end day (a month and its 下旬
    agree), so it never falls, whatever order a project's reports arrive in."""
    year, within = divmod(step, 48)
    month, slot = divmod(within, 4)
    xun = (1, 2, 3, 0)[slot]
    key = f"{2018 + year}-{month + 1:02d}" + (f"-X{xun}" if xun else "")
    xun_of_year = month * 3 + (xun or 3)  # 1..36
    ytd = xun_of_year * 100
    cum = year * 3_600 + ytd
    return key, {
        "period_key": key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": ytd,
        "physical_progress_pct": round(cum / 1_000_000 * 100, 2),
    }


def target(milestones: Sequence[str], i: int) -> str:
    """The milestone replica the i-th request goes to: round-robin, so each of n replicas takes
    every n-th request (one URL: all of them)."""
    return milestones[i % len(milestones)]


async def _post_reports(
    args: argparse.Namespace, projects: list[str], token: str
) -> dict[str, object]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=args.connections)
    # (project, period, sent, answered, status[, batch]): status 201 for an accepted report
    # (in batch mode a row accepted or late), else the HTTP status or 0 for a refused row.
    records: list[tuple[str, str, float, float, int] | tuple[str, str, float, float, int, int]] = []
    async with aiohttp.ClientSession(
        connector=connector, headers={"authorization": f"Bearer {token}"}
    ) as http:

        async def send_batch(i: int) -> bool:
            """The i-th batch: reports first + i·batch … of as many different projects."""
            rows = []
            for j in range(args.batch):
                n = args.first + i * args.batch + j
                key, body = progress_body(n // len(projects))
                rows.append((projects[n % len(projects)], key, body))
            reports = [{"project_id": project, **body} for project, _key, body in rows]
            sent = time.time()
            async with http.post(
                f"{target(args.milestone, i)}/v1/progress/batch", json={"reports": reports}
            ) as response:
                answer = await response.json() if response.status == 200 else None
            done = time.time()
            refused = 0
            for j, (project, key, _body) in enumerate(rows):
                if answer is None:
                    status = response.status
                else:
                    ok = answer["results"][j]["status"] in ("accepted", "late")
                    status, refused = (201, refused) if ok else (0, refused + 1)
                records.append((project, key, sent, done, status, i))
            return answer is not None and refused == 0

        async def send(i: int) -> bool:
            n = args.first + i
            project = projects[n % len(projects)]
            key, body = progress_body(n // len(projects))
            sent = time.time()
            async with http.post(
                f"{target(args.milestone, i)}/v1/projects/{project}/progress", json=body
            ) as response:
                await response.read()
                records.append((project, key, sent, time.time(), response.status))
                return response.status == 201

        if args.batch:
            # --rate counts reports: batches leave at rate / batch per second.
            load = await open_loop(
                send_batch, rate=args.rate / args.batch, duration_s=args.duration
            )
        else:
            load = await open_loop(send, rate=args.rate, duration_s=args.duration)
    return {
        "rate": args.rate,
        "duration_s": args.duration,
        "sent": load.sent,
        "ok": load.ok,
        "failed": load.failed,
        "skipped": load.skipped,
        "latencies_s": load.latencies_s,
        "records": records,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Posts progress reports open-loop at --rate for --duration seconds and writes "
        "every request (project, period, sent, answered, status) to --out as JSON."
    )
    parser.add_argument(
        "--milestone",
        required=True,
        action="append",
        help="the milestone service's base URL; repeated (one per replica), requests go to each "
        "in turn",
    )
    parser.add_argument("--token-file", required=True, help="a file holding a bearer token")
    parser.add_argument("--projects", required=True, help="a JSON file: the project ids to use")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument(
        "--first", type=int, default=0, help="index of the first report (continues a previous run)"
    )
    parser.add_argument("--connections", type=int, default=256, help="HTTP connections at most")
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="post reports in batches of this many (POST /v1/progress/batch); --rate still "
        "counts reports",
    )
    parser.add_argument("--out", required=True, help="where the JSON result goes")
    args = parser.parse_args()
    uvloop.install()
    projects: list[str] = json.loads(Path(args.projects).read_text())
    token = Path(args.token_file).read_text().strip()
    result = asyncio.run(_post_reports(args, projects, token))
    Path(args.out).write_text(json.dumps(result))
    print(f"sent {result['sent']}, ok {result['ok']}, failed {result['failed']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
