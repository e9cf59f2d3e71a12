"""A full evaluation pass judged with a worker process writes exactly what the service's process
alone writes: the same alerts, milestone statuses, timeline and events (rules.workers)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from bench.common import SQLITE_SYNCHRONOUS
from bench.evaluation import copy, day_file, digests, prepare, settings_for, url_of
from sanpi.kit.db import Database
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules import workers
from tests.conftest import Postgres


def _target(tmp_path: Path, postgres: Postgres | None, name: str) -> str:
    """A database of this pass of the suite: a SQLite file, or a PostgreSQL URL."""
    return postgres.url(f"workers_{name}") if postgres else str(tmp_path / f"{name}.db")


async def _pass(
    target: str, tmp_path: Path, as_of: dt.date, processes: int, *, preview: bool = False
) -> tuple[rules.EvaluationResult, dict[str, str], list[tuple[str, str]]]:
    url = url_of(target)
    settings = settings_for(url, tmp_path, processes)
    db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
    try:
        async with db.transaction() as uow:
            result = await rules.evaluate(
                uow, JUDGED, settings=settings, as_of=as_of, preview=preview
            )
        found = await digests(db)
        async with db.engine.connect() as c:
            statuses = [
                (str(r[0]), str(r[1]))
                for r in await c.execute(text("SELECT id, status FROM milestone_node ORDER BY id"))
            ]
    finally:
        workers.close_pools()
        await db.dispose()
    return result, found, statuses


def _chunks(judge: str) -> float:
    return REGISTRY.get_sample_value("sanpi_rule_evaluation_chunks_total", {"judge": judge}) or 0.0


def _worker_cpu() -> float:
    return REGISTRY.get_sample_value("sanpi_rule_evaluation_worker_cpu_seconds_total") or 0.0


async def test_a_pass_with_a_worker_writes_what_one_process_writes(
    tmp_path: Path, postgres: Postgres | None
) -> None:
    source = _target(tmp_path, postgres, "source")
    await prepare(1300, source, months=6)  # 4 chunks: the worker judges 2 of them
    as_of = dt.date.fromisoformat(day_file(source).read_text())
    alone, shared = _target(tmp_path, postgres, "alone"), _target(tmp_path, postgres, "shared")
    await copy(source, alone)
    await copy(source, shared)

    one, one_digests, one_statuses = await _pass(alone, tmp_path, as_of, 0)
    before = _chunks("worker"), _chunks("service"), _worker_cpu()
    two, two_digests, two_statuses = await _pass(shared, tmp_path, as_of, 1)
    # 4 chunks of 400: the worker judged every second one, the service the others.
    assert _chunks("worker") - before[0] == 2
    assert _chunks("service") - before[1] == 2
    assert _worker_cpu() > before[2]

    assert one.projects == two.projects == 1300
    assert len(one.raised) > 100  # a pass that judged something
    assert sorted(two.raised) == sorted(one.raised)
    assert two.firing == one.firing
    assert two.silent == one.silent
    assert two_digests == one_digests  # alerts, timeline and outbox, row by row
    assert two_statuses == one_statuses
    assert any(status != "PENDING" for _, status in two_statuses)  # statuses moved


async def test_a_preview_with_a_worker_finds_what_one_process_finds(
    tmp_path: Path, postgres: Postgres | None
) -> None:
    source = _target(tmp_path, postgres, "preview")
    await prepare(900, source, months=6)
    as_of = dt.date.fromisoformat(day_file(source).read_text()) - dt.timedelta(days=30)
    one, one_digests, _ = await _pass(source, tmp_path, as_of, 0, preview=True)
    two, two_digests, _ = await _pass(source, tmp_path, as_of, 1, preview=True)
    assert one.preview
    assert two.preview
    assert one.raised
    assert sorted(two.raised) == sorted(one.raised)
    assert [(p.project_id if p else None, a) for p, a in two.would_fire] == [
        (p.project_id if p else None, a) for p, a in one.would_fire
    ]
    assert two_digests == one_digests  # nothing written by either


@pytest.mark.db_independent
@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"], ids=["bare", "memory"]
)
def test_no_worker_for_a_database_only_this_process_can_open(url: str, tmp_path: Path) -> None:
    assert workers.pool_for(settings_for(url, tmp_path, 1)) is None


@pytest.mark.db_independent
def test_no_worker_unless_asked(tmp_path: Path) -> None:
    assert workers.pool_for(settings_for(f"sqlite+aiosqlite:///{tmp_path}/m.db", tmp_path)) is None


async def test_a_pass_whose_worker_died_is_judged_here_and_the_next_starts_another(
    tmp_path: Path, postgres: Postgres | None
) -> None:
    source = _target(tmp_path, postgres, "died")
    await prepare(900, source, months=6)
    as_of = dt.date.fromisoformat(day_file(source).read_text())
    alone, shared = _target(tmp_path, postgres, "died_alone"), _target(tmp_path, postgres, "died_w")
    await copy(source, alone)
    await copy(source, shared)
    _, one_digests, _ = await _pass(alone, tmp_path, as_of, 0)

    settings = settings_for(url_of(shared), tmp_path, 1)
    pool = workers.pool_for(settings)
    assert pool is not None
    await pool.warm()
    (worker,) = multiprocessing.active_children()
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    # Not join() then is_alive(): the pool's own thread reaps the dead worker too, and the
    # loser of the two waitpid calls reads "alive" until the winner has stored the exit code
    # (CI's SQLite pass: is_alive() True after the join).
    deadline = time.monotonic() + 30
    while worker.is_alive():
        assert time.monotonic() < deadline, "the killed worker still runs after 30 s"
        worker.join(timeout=0.1)

    db = Database(url_of(shared), sqlite_synchronous=SQLITE_SYNCHRONOUS)
    try:
        async with db.transaction() as uow:
            result = await rules.evaluate(uow, JUDGED, settings=settings, as_of=as_of)
        assert await digests(db) == one_digests  # judged in this process, all of it
        assert result.raised
        again = workers.pool_for(settings)
        assert again is not None
        assert again is not pool  # a new worker for the next pass
        before = _chunks("worker")
        async with db.transaction() as uow:
            await rules.evaluate(uow, JUDGED, settings=settings, as_of=as_of)
        assert _chunks("worker") - before == 1
    finally:
        workers.close_pools()
        await db.dispose()
