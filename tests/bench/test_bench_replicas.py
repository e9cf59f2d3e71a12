"""The e2e benches with several milestone processes (--milestone-replicas): refused on SQLite, the
load spread over the replicas in turn, and on PostgreSQL every accepted report delivered once
while both consumers hold partitions of the group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.e2e import check_replicas
from bench.loadgen import target

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str, results: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Its own results folder: the suite's other pass runs the smoke bench at the same time, and
    # a bench clears its folder's run/ (broker, databases) as it starts.
    env = {**os.environ, "SANPI_BENCH_DIR": str(results)} if results else None
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )


@pytest.mark.db_independent
def test_replicas_on_sqlite_are_refused_before_anything_starts() -> None:
    done = bench("--only", "e2e", "--milestone-replicas", "2")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--milestone-replicas 2 needs --db postgres" in done.stderr
    assert "starting Apache Kafka" not in done.stdout


@pytest.mark.db_independent
def test_replica_count_is_checked_against_the_database() -> None:
    with pytest.raises(ValueError, match="need PostgreSQL"):
        check_replicas(2, {})
    with pytest.raises(ValueError, match="need PostgreSQL"):
        check_replicas(2, {"milestone": "sqlite+aiosqlite:///m.db"})
    with pytest.raises(ValueError, match="at least 1"):
        check_replicas(0, {})
    check_replicas(1, {})
    check_replicas(2, {"milestone": "postgresql+asyncpg://u:p@127.0.0.1:5432/sanpi_milestone"})


@pytest.mark.db_independent
def test_load_generator_posts_to_each_replica_in_turn() -> None:
    urls = ["http://a", "http://b"]
    assert [target(urls, i) for i in range(5)] == ["http://a", "http://b"] * 2 + ["http://a"]
    assert {target(["http://only"], i) for i in range(3)} == {"http://only"}


@pytest.mark.postgres_only
def test_two_milestone_replicas_deliver_every_report_once(tmp_path: Path) -> None:
    done = bench(
        "--smoke",
        "--db",
        "postgres",
        "--only",
        "e2e",
        "--milestone-replicas",
        "2",
        results=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    saved = json.loads((tmp_path / "e2e-milestone-x2.json").read_text())
    step = saved["details"]["steps"][0]
    assert step["accepted"] > 0
    assert step["delivered"] == step["accepted"], step
    assert saved["details"]["duplicate_deliveries"] == 0
    assert saved["details"]["bad_signatures"] == 0
    held = saved["details"]["milestone_partitions"]
    # One consumer group over 6-partition topics: the rebalance gives each process a share.
    assert set(held) == {"milestone", "milestone-2"}
    assert all(count > 0 for count in held.values()), held
    figures = {f["name"] for f in saved["figures"]}
    assert "peak rss milestone-2" in figures
    assert "cpu per 1000 updates milestone, all 2 processes" in figures
