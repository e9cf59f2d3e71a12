"""Rule evaluation after commit, for the changed projects of many transactions in one pass."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from sanpi.kit import Database, UnitOfWork, tracing
from sanpi.milestone import metrics
from sanpi.milestone.rules import repository

log = logging.getLogger("sanpi.milestone.rules")

# Projects of one evaluation transaction at most (5 of evaluate's chunks): a sweep after a long
# outage must not hold the write lock for a whole province.
MAX_BATCH = 2000
# A deadlock or a unique violation (two replicas raising one alert) is retried, then left to
# the sweep: the marks stay until an evaluation deletes them.
ATTEMPTS = 3

Mark = tuple[str, str]  # (project_id, token)
# Evaluates these projects' rules in the unit of work's transaction.
EvaluateProjects = Callable[[UnitOfWork, list[str]], Awaitable[None]]


@dataclass
class _Waiting:
    marks: Sequence[Mark]
    done: asyncio.Future[None]
    # The caller's trace (tracing on): the pass that evaluates its marks continues it.
    traceparent: str | None = None


@dataclass
class Coalescer:
    """Evaluates the marks of every caller that arrived while the previous pass ran, in one
    transaction: a report's own evaluation cost ~12 statements, while a pass over many projects
    costs a fraction of that per project (evaluate reads each table once per chunk).

    One evaluator task at a time, started when work arrives and ended when none is left (so it
    needs no lifespan); callers wait for the pass that includes them."""

    db: Database
    evaluate_projects: EvaluateProjects
    _waiting: list[_Waiting] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def in_another_loop(self) -> bool:
        """Whether its evaluator task runs in another event loop than the caller's."""
        return self._task is not None and self._task.get_loop() is not asyncio.get_running_loop()

    async def evaluate(self, marks: Sequence[Mark]) -> None:
        """Returns once these marks' projects were evaluated (or their pass failed, logged:
        the marks then stay for the sweep)."""
        if not marks:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        traceparent = tracing.current_traceparent() if tracing.ENABLED else None
        self._waiting.append(_Waiting(marks, done, traceparent))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sanpi.rules.coalescer")
        await done

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch: list[_Waiting] = []
                try:
                    await self._pass(batch)
                finally:
                    for waiting in batch:
                        if not waiting.done.done():  # a caller may have gone (cancelled)
                            waiting.done.set_result(None)
        finally:
            self._task = None

    def _take(self, batch: list[_Waiting]) -> None:
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0].marks) <= MAX_BATCH):
            batch.append(self._waiting.pop(0))
            size += len(batch[-1].marks)

    async def _pass(self, batch: list[_Waiting]) -> None:
        """One evaluation transaction for `batch`, taken once the transaction holds the SQLite
        write lock: every change committed before it got the lock is in (taken before, a
        burst's first commit went alone and the rest waited a whole pass)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.transaction() as uow:
                    if not batch:
                        self._take(batch)
                    marks = [m for waiting in batch for m in waiting.marks]
                    ids = sorted({project_id for project_id, _token in marks})
                    if tracing.ENABLED:
                        callers = [w.traceparent for w in batch]
                        with tracing.evaluating(callers, projects=len(ids)):
                            await self.evaluate_projects(uow, ids)
                    else:
                        await self.evaluate_projects(uow, ids)
                    await repository.unmark(uow.session, marks)
                metrics.RULE_EVALUATION_BATCH.observe(len(ids))
                return
            except DBAPIError as exc:
                if attempt == ATTEMPTS:
                    log.exception("evaluation of %d projects failed; left to the sweep", len(batch))
                    return
                log.warning("evaluation pass: attempt %d of %d: %s", attempt, ATTEMPTS, exc)
                await asyncio.sleep(0.05 * attempt)
            except Exception:
                log.exception("evaluation of %d projects failed; left to the sweep", len(batch))
                return
