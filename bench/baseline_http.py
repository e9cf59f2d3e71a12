"""Baseline: the most inserts per second a bare FastAPI endpoint does on the same database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from bench.common import BenchResult, percentile, process_cost
from bench.loadgen import closed_loop
from scripts import stack


async def run(
    database_url: str, *, duration_s: float, concurrency: int, run_dir: Path, port: int
) -> BenchResult:
    pid = stack.spawn(
        "bare-app",
        [sys.executable, "-m", "bench.bare_app", database_url, str(port)],
        marker="bench.bare_app",
        run_dir=run_dir,
    )
    try:
        stack.wait_http(f"http://127.0.0.1:{port}/docs")
        url = f"http://127.0.0.1:{port}/items"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

            async def send(i: int) -> bool:
                async with http.post(
                    url, json={"project_id": f"p-{i % 1000}", "amount": i}
                ) as response:
                    return response.status == 201

            await closed_loop(
                send, concurrency=concurrency, duration_s=min(1.0, duration_s)
            )  # warm-up
            before = process_cost(pid)
            load = await closed_loop(send, concurrency=concurrency, duration_s=duration_s)
            after = process_cost(pid)
    finally:
        stack.stop_pidfile(run_dir / "pids" / "bare-app.pid", "bench.bare_app")
    result = BenchResult("baseline-http-insert")
    kind = database_url.split(":", 1)[0].split("+", 1)[0]
    result.add("inserts", load.ok / duration_s, "req/s", f"{kind}, {concurrency} concurrent")
    result.add("latency p50", percentile(load.latencies_s, 50) * 1000, "ms")
    result.add("latency p99", percentile(load.latencies_s, 99) * 1000, "ms")
    result.add("errors", load.failed, "requests")
    result.add(
        "cpu per 1000",
        (after.cpu_seconds - before.cpu_seconds) / max(load.ok, 1) * 1000,
        "cpu-s",
        "server",
    )
    await asyncio.sleep(0)
    return result
