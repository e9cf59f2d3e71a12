"""Runs the benchmarks and prints one table; results also go to .run/bench/<bench>.json.

python -m bench                 the full suite (make bench)
python -m bench --smoke         tiny sizes, seconds: proves the benchmarks run (make test)
python -m bench --db postgres   the database-bound figures on PostgreSQL instead of SQLite
python -m bench --only baseline-kafka
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path

from bench import baseline_http, baseline_kafka
from bench.common import RESULTS, ROOT, BenchResult, print_table
from scripts import stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Environment:
    """The broker (and PostgreSQL) this run measures on; every benchmark shares them."""

    run_dir: Path
    bootstrap: str
    database_url: str
    smoke: bool


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
        port=free_port(),
    )


BENCHES: dict[str, Bench] = {
    "baseline-kafka": bench_kafka,
    "baseline-http-insert": bench_http,
}


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
    args = parser.parse_args()

    run_dir = RESULTS / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    kafka_port, controller_port = free_port(), free_port()
    kafka_env = {
        "KAFKA_DIR": str(run_dir / "kafka"),
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    pg_env = {"PG_DIR": str(run_dir / "postgres"), "PG_PORT": str(free_port())}
    started = time.monotonic()
    print(f"starting Apache Kafka on 127.0.0.1:{kafka_port} …", flush=True)
    stack.kafka("start", kafka_env)
    results: list[BenchResult] = []
    try:
        if args.db == "postgres":
            pg("start", env=pg_env)
            pg("createdb", "sanpi_bench", env=pg_env)
            url = pg("url", "bench", env=pg_env)
        else:
            url = f"sqlite+aiosqlite:///{run_dir / 'bench.db'}"
        env = Environment(run_dir, f"127.0.0.1:{kafka_port}", url, args.smoke)
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
            pg("stop", env=pg_env)
    print()
    print_table(results)
    print(
        f"\n{len(results)} benchmarks in {time.monotonic() - started:.0f}s; JSON in {RESULTS.relative_to(ROOT)}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
