"""Runs the benchmarks and prints one table; results also go to .run/bench/<bench>.json.

python -m bench                 the full suite (make bench)
python -m bench --smoke         tiny sizes, seconds: proves the benchmarks run (make test)
python -m bench --db postgres   the database-bound figures on PostgreSQL instead of SQLite
python -m bench --only baseline-kafka
python -m bench --only e2e --rates 100,500,1000
python -m bench --only scale --projects 2000 --profile
                                the province scale with fewer projects; pyinstrument reports of an
                                extra evaluation pass and of the replay (whose figure then carries
                                the profiler's overhead) go to .run/bench/scale-*.profile.txt
python -m bench --only scale --scale-parts registry
                                the registry's list/filter and indicator latencies alone
python -m bench --only e2e-batch --batch-sizes 50,200 --batch-rates 1000,2500,5000
                                batches of 50 and of 200 reports (POST /v1/progress/batch) at
                                rising report rates, until one is not sustained
python -m bench --only portal --projects 2000
                                the portal's page times (我的项目, 红黄榜) with fewer projects
python -m bench --only sheets   20,000 ledger rows created, exported and re-imported with edits,
                                and a 20,000-row 旬报 sheet imported (--projects for fewer)
python -m bench --db postgres --only e2e --rates 150 --milestone-replicas 2
                                two milestone processes on one database and consumer group, the
                                load generator posting to each in turn; figures per process, the
                                milestone CPU summed, and the partitions each consumer holds
python -m bench --only e2e --rates 150 --profile
                                each service under pyinstrument (bench/profiled.py): reports of
                                the whole run go to .run/bench/e2e-<service>.profile.txt

The end-to-end figure is set against the slowest same-run baseline (a ratio of 1 would mean the
whole pipeline runs as fast as a bare insert or a bare produce→consume alone).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import baseline_http, baseline_kafka, e2e, portal, rebuild, scale, sheets
from bench.common import RESULTS, BenchResult, print_table
from scripts import stack


@dataclass
class Environment:
    """The broker (and PostgreSQL) this run measures on; every benchmark shares them."""

    run_dir: Path
    bootstrap: str
    database_url: str
    smoke: bool
    service_urls: dict[str, str]  # each service's database URL; empty: SQLite under run_dir
    broker_pid: int | None
    rates: list[float]
    new_database: Callable[[str], str]  # a fresh database by name → its URL
    projects: int | None  # the scale bench's project count (default: 20,000; smoke: 300)
    profile: bool
    batch_rates: list[float]
    batch_sizes: list[int]
    scale_parts: list[str]
    milestone_replicas: int = 1  # e2e, e2e-batch: milestone processes (PostgreSQL only)


Bench = Callable[[Environment], Coroutine[None, None, BenchResult]]


def pg(*args: str, env: dict[str, str]) -> str:
    """Runs deploy/postgres/pg.sh with this run's PG_DIR/PG_PORT; returns what it printed."""
    done = subprocess.run(
        [str(stack.PG_SH), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    return done.stdout.strip()


async def bench_kafka(env: Environment) -> BenchResult:
    return await baseline_kafka.run(env.bootstrap, messages=2_000 if env.smoke else 100_000)


async def bench_http(env: Environment) -> BenchResult:
    return await baseline_http.run(
        env.database_url,
        duration_s=2 if env.smoke else 20,
        concurrency=32,
        run_dir=env.run_dir,
        port=stack.free_port(),
    )


async def bench_e2e(env: Environment) -> BenchResult:
    return await e2e.run(
        run_dir=env.run_dir,
        bootstrap=env.bootstrap,
        database_urls=env.service_urls,
        broker_pid=env.broker_pid,
        rates=env.rates,
        step_s=3 if env.smoke else 60,
        projects=40 if env.smoke else max(1_500, int(max(env.rates))),
        profile=env.profile,
        **replicas(env, "e2e"),
    )


async def bench_e2e_batch(env: Environment) -> BenchResult:
    # A batch's rows are of different projects: at least the largest batch, and enough that each
    # project reports about once a second at the highest rate (as in a 旬's last days).
    projects = 40 if env.smoke else max(2_000, int(max(env.batch_rates)))
    # Databases of its own (on PostgreSQL; SQLite files live under its own directory): the
    # single-update bench's reports and alerts would weigh on every evaluation.
    urls = {s: env.new_database(f"batch_{s}") for s in e2e.SERVICES} if env.service_urls else {}
    return await e2e.run(
        run_dir=env.run_dir,
        bootstrap=env.bootstrap,
        database_urls=urls,
        broker_pid=env.broker_pid,
        rates=env.batch_rates,
        step_s=3 if env.smoke else 60,
        projects=projects,
        profile=env.profile,
        batch_sizes=[min(size, projects) for size in env.batch_sizes],
        **replicas(env, "e2e-batch"),
    )


def replicas(env: Environment, name: str) -> dict[str, Any]:
    """The e2e benches' name and milestone replica count: with replicas, results of their own
    (<name>-milestone-x<N>.json) beside the one-process figures they are compared with."""
    n = env.milestone_replicas
    return {"name": f"{name}-milestone-x{n}" if n > 1 else name, "milestone_replicas": n}


async def bench_scale(env: Environment) -> BenchResult:
    return await scale.run(
        run_dir=env.run_dir,
        bootstrap=env.bootstrap,
        new_database=env.new_database,
        smoke=env.smoke,
        projects=env.projects,
        profile=env.profile,
        parts=env.scale_parts,
    )


async def bench_rebuild(env: Environment) -> BenchResult:
    result = BenchResult("rebuild")
    projects = env.projects or (300 if env.smoke else 20_000)
    urls = {name: env.new_database(f"rebuild_{name}") for name in ("milestone", "notification")}
    await rebuild.run(result, projects, env.bootstrap, urls)
    return result


async def bench_portal(env: Environment) -> BenchResult:
    return await portal.run(
        run_dir=env.run_dir, new_database=env.new_database, smoke=env.smoke, projects=env.projects
    )


async def bench_sheets(env: Environment) -> BenchResult:
    return await sheets.run(
        run_dir=env.run_dir, new_database=env.new_database, smoke=env.smoke, projects=env.projects
    )


BENCHES: dict[str, Bench] = {
    "baseline-kafka": bench_kafka,
    "baseline-http-insert": bench_http,
    "e2e": bench_e2e,
    "e2e-batch": bench_e2e_batch,
    "scale": bench_scale,
    "rebuild": bench_rebuild,
    "portal": bench_portal,
    "sheets": bench_sheets,
}
FULL_RATES = [25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 750.0, 1000.0, 1500.0]
# Batch mode: issue 26's target is 5,000 reports/s sustained, in batches of 50 and of 200.
BATCH_RATES = [500.0, 1000.0, 2000.0, 3000.0, 5000.0]
BATCH_SIZES = [50, 200]


def summary(results: list[BenchResult]) -> BenchResult | None:
    """The pipeline's highest sustained rate as a ratio of the slowest same-run baseline."""
    by_name = {r.bench: r for r in results}
    if not {"e2e", "baseline-kafka", "baseline-http-insert"} <= set(by_name):
        return None
    kafka = by_name["baseline-kafka"].get("produce→consume")
    http = by_name["baseline-http-insert"].get("inserts")
    slowest, which = min((kafka, "baseline-kafka produce→consume"), (http, "baseline-http-insert"))
    pipeline = by_name["e2e"].get("highest rate sustained")
    result = BenchResult("summary")
    result.add("slowest baseline", slowest, "per s", which)
    result.add(
        "pipeline / slowest baseline",
        pipeline / slowest if slowest else 0.0,
        "ratio",
        "target ≥ 0.5",
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: check that everything runs"
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHES), help="run only this (repeatable)"
    )
    parser.add_argument(
        "--rates",
        help="comma-separated updates/s for the end-to-end steps, rising (default: 25 up to 1500; stops at the first rate not sustained)",
    )
    parser.add_argument(
        "--batch-rates",
        help="comma-separated reports/s for the batch steps, rising (default: 500 up to 5000)",
    )
    parser.add_argument("--batch-sizes", help="comma-separated reports per batch (default: 50,200)")
    parser.add_argument(
        "--projects", type=int, help="scale, portal: projects; sheets: rows (default 20,000 each)"
    )
    parser.add_argument(
        "--scale-parts",
        help=f"scale: comma-separated parts to run (default: {','.join(scale.PARTS)}; the "
        "registry's list and indicator latencies alone: registry)",
    )
    parser.add_argument(
        "--milestone-replicas",
        type=int,
        default=1,
        help="e2e, e2e-batch: run this many milestone processes on one database and consumer "
        "group, the load spread over them in turn (needs --db postgres)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="scale: pyinstrument the evaluation and the replay; e2e: each service's process",
    )
    args = parser.parse_args()
    if args.milestone_replicas < 1:
        parser.error("--milestone-replicas: at least 1")
    if args.milestone_replicas > 1 and args.db != "postgres":
        parser.error(
            f"--milestone-replicas {args.milestone_replicas} needs --db postgres: the replicas "
            "share one database, and a SQLite file is written by one process at a time"
        )
    scale_parts = args.scale_parts.split(",") if args.scale_parts else list(scale.PARTS)
    if unknown := set(scale_parts) - set(scale.PARTS):
        parser.error(f"--scale-parts: unknown {', '.join(sorted(unknown))}; one of {scale.PARTS}")
    rates = [float(r) for r in args.rates.split(",")] if args.rates else FULL_RATES
    if args.smoke and not args.rates:
        rates = [20.0]
    batch_rates = (
        [float(r) for r in args.batch_rates.split(",")] if args.batch_rates else BATCH_RATES
    )
    if args.smoke and not args.batch_rates:
        batch_rates = [40.0]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")] if args.batch_sizes else BATCH_SIZES
    if args.smoke and not args.batch_sizes:
        batch_sizes = [10]

    run_dir = RESULTS / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    kafka_port, controller_port = stack.free_port(), stack.free_port()
    kafka_env = {
        "KAFKA_DIR": str(run_dir / "kafka"),
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    pg_env = {"PG_DIR": str(run_dir / "postgres"), "PG_PORT": str(stack.free_port())}
    started = time.monotonic()
    print(f"starting Apache Kafka on 127.0.0.1:{kafka_port} …", flush=True)
    stack.kafka("start", kafka_env)
    results: list[BenchResult] = []
    try:
        service_urls: dict[str, str] = {}
        if args.db == "postgres":
            pg("start", env=pg_env)

            def new_database(name: str) -> str:
                pg("createdb", f"sanpi_{name}", env=pg_env)
                return pg("url", name, env=pg_env)

            url = new_database("bench")
            service_urls = {name: pg("url", name, env=pg_env) for name in e2e.SERVICES}
        else:

            def new_database(name: str) -> str:
                return f"sqlite+aiosqlite:///{run_dir / name}.db"

            url = new_database("bench")
        broker_pid = int((run_dir / "kafka" / "kafka.pid").read_text())
        env = Environment(
            run_dir,
            f"127.0.0.1:{kafka_port}",
            url,
            args.smoke,
            service_urls,
            broker_pid,
            rates,
            new_database,
            args.projects,
            args.profile,
            batch_rates,
            batch_sizes,
            scale_parts,
            args.milestone_replicas,
        )
        for name in args.only or list(BENCHES):
            print(f"running {name} …", flush=True)
            result = asyncio.run(BENCHES[name](env))
            result.details["smoke"] = args.smoke
            result.details["db"] = args.db
            result.save()
            results.append(result)
    finally:
        stack.kafka("stop", kafka_env)
        if args.db == "postgres":
            pg("destroy", env=pg_env)
    total = summary(results)
    if total is not None:
        total.details.update(smoke=args.smoke, db=args.db)
        total.save()
        results.append(total)
    print()
    print_table(results)
    print(f"\n{len(results)} benchmarks in {time.monotonic() - started:.0f}s; JSON in {RESULTS}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
