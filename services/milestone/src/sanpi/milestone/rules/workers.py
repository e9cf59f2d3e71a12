"""Evaluation workers: processes that judge chunks of a full pass on the host's other cores."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from sanpi.events import AlertRule
from sanpi.kit import Database, Reading
from sanpi.kit.gc_pause import gc_paused
from sanpi.kit.named_rows import row_of
from sanpi.milestone import metrics
from sanpi.milestone.settings import MilestoneSettings

if TYPE_CHECKING:
    from sanpi.milestone.rules.areas import Areas
    from sanpi.milestone.rules.service import ChunkTask, Judged

log = logging.getLogger("sanpi.milestone.rules")

# What a worker sends back for one chunk: the project rows' column names, then per project its
# row's values and the rest of its Judged (a row is a named tuple of a class made at run time,
# which pickle cannot name).
Shipped = tuple[tuple[str, ...], list[tuple[Any, ...]]]


class EvaluationPool:
    """`size` worker processes, each with its own connection to the service's database.

    A full pass is pure Python for the most part (reading rows, making facts, the rules): one
    process judges ~4-6 s of it at province scale on one core, and a second core sits idle. The
    pass hands every (size + 1)-th chunk to each worker, judges its own share meanwhile, and
    keeps the writing (alerts, statuses, events) in its transaction. A worker reads committed
    rows in a read-only transaction of its own: on PostgreSQL each statement of a pass already
    sees the rows committed before it, and on SQLite the pass holds the write lock, so nothing
    commits meanwhile."""

    def __init__(self, settings: MilestoneSettings, size: int) -> None:
        self.size = size
        # spawn, not fork: a forked child would inherit the service's event loop, the driver's
        # threads and the Kafka client's sockets mid-use.
        self._executor = ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(settings,),
        )

    async def warm(self) -> None:
        """Starts every worker now (each imports the service and connects: ~1 s), so the first
        pass does not pay for it."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _ready) for _ in range(self.size))
        )

    async def judge_with(
        self, areas: Areas, tx: Reading, settings: MilestoneSettings, task: ChunkTask
    ) -> tuple[list[list[Judged]], Counter[AlertRule]]:
        """The task's chunks judged by the workers and by this process together, in order."""
        from sanpi.milestone.rules import service  # it imports this module

        judges = self.size + 1
        shares = [task.chunks[lane::judges] for lane in range(judges)]
        loop = asyncio.get_running_loop()
        sent = [
            loop.run_in_executor(
                self._executor, _judge, areas, dataclasses.replace(task, chunks=share)
            )
            for share in shares[1:]
        ]
        try:
            mine, silent = await service.judge_chunks(
                areas, tx, settings, dataclasses.replace(task, chunks=shares[0])
            )
            theirs = await asyncio.gather(*sent)
        except BaseException:
            for waiting in sent:
                waiting.cancel()
            await asyncio.gather(*sent, return_exceptions=True)
            raise
        judged: list[list[Judged]] = [[] for _ in task.chunks]
        for n, chunk in enumerate(mine):
            judged[n * judges] = chunk
        metrics.RULE_EVALUATION_CHUNKS.labels("service").inc(len(mine))
        for lane, (shipped, found, cpu) in enumerate(theirs, start=1):
            silent.update(found)
            for n, chunk_shipped in enumerate(shipped):
                judged[lane + n * judges] = _unshipped(chunk_shipped)
            metrics.RULE_EVALUATION_CHUNKS.labels("worker").inc(len(shipped))
            metrics.RULE_EVALUATION_WORKER_CPU.inc(cpu)
        return judged, silent

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


_POOLS: dict[tuple[str, int], EvaluationPool] = {}


def pool_for(settings: MilestoneSettings) -> EvaluationPool | None:
    """The pool of the service's database (made on first use), or None: workers off
    (`evaluation_workers` 0), or a database a second process cannot open (SQLite in memory)."""
    size = settings.evaluation_workers
    url = settings.effective_database_url
    if size <= 0 or (url.startswith("sqlite") and (":memory:" in url or ":///" not in url)):
        return None
    key = (url, size)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = EvaluationPool(settings, size)
    return pool


def discard(pool: EvaluationPool) -> None:
    """Forgets a pool whose worker died (the next pass starts a new one) and ends what is left."""
    for key, known in list(_POOLS.items()):
        if known is pool:
            del _POOLS[key]
    pool.close()


def close_pools() -> None:
    """Stops every worker of this process (the service's shutdown)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.close()


# --- in the worker process --------------------------------------------------------------------

_worker: tuple[asyncio.AbstractEventLoop, Database, MilestoneSettings] | None = None


def _start(settings: MilestoneSettings) -> None:
    global _worker
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    db = Database(
        settings.effective_database_url,
        event_source=settings.event_source,
        busy_timeout_ms=settings.database_busy_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    _worker = (loop, db, settings)


def _ready() -> bool:
    from sanpi.milestone.rules import service  # noqa: F401  (imported now, not at the first pass)

    return _worker is not None


def _judge(areas: Areas, task: ChunkTask) -> tuple[list[Shipped], Counter[AlertRule], float]:
    """The task's chunks judged here, the rules left silent, and the CPU seconds it took."""
    assert _worker is not None, "not an evaluation worker"
    loop, db, settings = _worker
    cpu = time.process_time()
    shipped, silent = loop.run_until_complete(_judge_here(db, areas, settings, task))
    return shipped, silent, time.process_time() - cpu


async def _judge_here(
    db: Database, areas: Areas, settings: MilestoneSettings, task: ChunkTask
) -> tuple[list[Shipped], Counter[AlertRule]]:
    from sanpi.milestone.rules import service

    # As the pass does in the service: millions of short-lived objects (see gc_paused).
    with gc_paused():
        async with db.read() as session:
            judged, silent = await service.judge_chunks(areas, session, settings, task)
    return [_shipped(chunk) for chunk in judged], silent


def _shipped(chunk: Sequence[Judged]) -> Shipped:
    if not chunk:
        return (), []
    fields: tuple[str, ...] = chunk[0].project._fields
    return fields, [(tuple(j.project), j.alerts, j.pacing, j.portfolio, j.signals) for j in chunk]


def _unshipped(shipped: Shipped) -> list[Judged]:
    from sanpi.milestone.rules.service import Judged

    fields, items = shipped
    return [
        Judged(row_of(fields, values), alerts, pacing, portfolio, signals)
        for values, alerts, pacing, portfolio, signals in items
    ]
