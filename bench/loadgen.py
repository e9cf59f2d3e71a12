"""An open-loop load generator: requests leave on schedule whether or not earlier ones returned,
and latency counts from the scheduled time, so a slow server cannot hide its queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


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
