"""What every benchmark shares: results, percentiles, process cost from /proc, the printed table."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from sanpi.kit.db import SqliteSynchronous

ROOT = Path(__file__).resolve().parents[1]
# Where a run's JSON, profiles and working files (run/: the broker, the databases) go. Two runs
# at once need two folders (each clears its run/ first): SANPI_BENCH_DIR names another, as the
# test suite's two database passes do.
RESULTS = Path(os.environ.get("SANPI_BENCH_DIR") or ROOT / ".run" / "bench")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _sqlite_synchronous() -> SqliteSynchronous:
    """The bench measures SQLite commits that wait for no disk sync (NORMAL), as every figure
    before production went to FULL did, in the services it starts (they inherit the variable)
    and in the databases it opens itself. `SANPI_SQLITE_SYNCHRONOUS=FULL` measures the
    production default instead."""
    value = os.environ.setdefault("SANPI_SQLITE_SYNCHRONOUS", "NORMAL")
    if value == "FULL":
        return "FULL"
    if value == "NORMAL":
        return "NORMAL"
    raise SystemExit(f"SANPI_SQLITE_SYNCHRONOUS must be FULL or NORMAL, not {value!r}")


SQLITE_SYNCHRONOUS = _sqlite_synchronous()


@dataclass
class Figure:
    """One measured number, with its unit and the conditions it was measured under."""

    name: str
    value: float
    unit: str
    note: str = ""


@dataclass
class BenchResult:
    bench: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        self.figures.append(Figure(name, value, unit, note))

    def get(self, name: str) -> float:
        return next(f.value for f in self.figures if f.name == name)

    def save(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.bench}.json"
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")
        return path


@dataclass
class Window:
    """A measured window: its start on the wall clock, then this process's CPU and wall seconds in
    it and, when profiled, pyinstrument's text report of it."""

    started: float = 0.0
    cpu: float = 0.0
    wall: float = 0.0
    report: str = ""


def machine_speed() -> float:
    """Seconds of CPU a fixed pure-Python loop (2M additions, median of three) takes now: the
    same-run baseline of a CPU-bound figure. This machine is a virtual one whose speed moves
    under a constant load: on an idle machine 3M additions took 0.21-0.39 s from one half second
    to the next, most often near the slow end, and a rule evaluation's CPU moved with it
    (3.9-6.0 CPU-s, same code, same data)."""
    runs = []
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        runs.append(time.process_time() - started)
    return sorted(runs)[1]


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """Everything alive on entry is out of the garbage collector's sight until the block ends,
    as `serve()` hides a service's start-up heap: a bench that runs a service's code in its own
    process would otherwise have each full collection walk the bench's data too."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def measured(*, profile: bool = False) -> Iterator[Window]:
    """Times the block as a served process would run it: everything alive on entry is out of the
    garbage collector's sight (as `serve()` freezes a service after start-up; in-process, the app
    shares its heap with the bench's own data, and a full collection walking that could land in
    the window), and with `profile` pyinstrument samples it every 0.5 ms."""
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled", interval=0.0005)
        profiler.start()
    with heap_frozen():
        cpu = time.process_time()
        window = Window(started=time.perf_counter())
        try:
            yield window
        finally:
            window.cpu = time.process_time() - cpu
            window.wall = time.perf_counter() - window.started
            if profiler is not None:
                profiler.stop()
                window.report = profiler.output_text(unicode=True, show_all=False)


async def create_topic(bootstrap: str, topic: str, partitions: int = 6) -> None:
    """A fresh topic with the services' partition count (sanpi.kit.kafka: 6)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()


async def delete_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


@dataclass(frozen=True)
class ProcessCost:
    cpu_seconds: float
    peak_rss_mb: float


def process_cost(pid: int) -> ProcessCost:
    """CPU seconds (user+system) so far and peak resident memory (VmHWM) of a running process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    peak_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kb = int(line.split()[1])
    return ProcessCost(cpu, peak_kb / 1024)


def print_table(results: list[BenchResult]) -> None:
    rows = [(r.bench, f.name, _fmt(f.value), f.unit, f.note) for r in results for f in r.figures]
    headers = ("bench", "figure", "value", "unit", "note")
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
