"""Retention: tables that would grow for ever (ids of applied events, stored answers, delivery
logs) keep their rows for a set time; a background pruner deletes the older ones, in batches."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.db import Database, utcnow
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.idempotency import IdempotentRequest
from sanpi.kit.metrics import RETENTION_OLDEST_AGE, RETENTION_PRUNED
from sanpi.kit.settings import ServiceSettings
from sanpi.kit.waiting import sleep_or_stop

log = logging.getLogger("sanpi.retention")

# Rows deleted per transaction: on SQLite a transaction holds the write lock, and 2,000 rows
# by an index take a few milliseconds; a first prune of a year's inbox runs as many as it needs.
PRUNE_BATCH = 2_000

DeleteBefore = Callable[[AsyncSession, dt.datetime, int], Awaitable[int]]
Oldest = Callable[[AsyncSession], Awaitable[dt.datetime | None]]


@dataclass(frozen=True)
class Retained:
    """A table whose rows are kept `keep_s` seconds (0: for ever). `delete_before` deletes at
    most `limit` of the rows older than a time, oldest first, and says how many; `oldest` is the
    time of the oldest row kept (the metric). `name` labels the metrics."""

    name: str
    keep_s: float
    delete_before: DeleteBefore
    oldest: Oldest


def by_age(
    name: str, keep_s: float, table: Any, at: Any, key: Sequence[Any], where: Any = None
) -> Retained:
    """A table pruned by the age of its rows: `at` its time column (indexed), `key` the columns
    of its primary key, `where` an optional condition on the rows that may go."""

    def condition(before: dt.datetime) -> Any:
        older = at < before
        return older if where is None else sa.and_(older, where)

    async def delete_before(session: AsyncSession, before: dt.datetime, limit: int) -> int:
        chosen = sa.select(*key).where(condition(before)).order_by(at).limit(limit)
        # Row values: one statement on SQLite (3.15+) and PostgreSQL alike.
        statement = sa.delete(table).where(sa.tuple_(*key).in_(chosen))
        done = await session.exec(statement)
        return int(done.rowcount)

    async def oldest(session: AsyncSession) -> dt.datetime | None:
        first = sa.select(sa.func.min(at))
        if where is not None:
            first = first.where(where)
        connection = await session.connection()
        found: dt.datetime | None = (await connection.execute(first)).scalar_one_or_none()
        return found

    return Retained(name, keep_s, delete_before, oldest)


def kit_retained(settings: ServiceSettings) -> list[Retained]:
    """The kit's tables every service keeps for a while: the consumer inbox and the answers
    stored for Idempotency-Keys (settings.py says why each keeps what it keeps)."""
    inbox, answers = ProcessedEvent.__table__, IdempotentRequest.__table__  # type: ignore[attr-defined]
    return [
        by_age(
            "inbox",
            settings.inbox_retention_days * 86400,
            inbox,
            inbox.c.processed_at,
            (inbox.c.consumer, inbox.c.source, inbox.c.event_id),
        ),
        by_age(
            "idempotency",
            settings.idempotency_retention_hours * 3600,
            answers,
            answers.c.created_at,
            (answers.c.subject, answers.c.scope, answers.c.key),
        ),
    ]


async def prune(db: Database, tables: Sequence[Retained], *, now: dt.datetime) -> dict[str, int]:
    """Deletes what each table no longer keeps, a batch per transaction, and publishes the
    metrics; returns the rows deleted per table."""
    pruned: dict[str, int] = {}
    for table in tables:
        count = 0
        if table.keep_s > 0:
            before = now - dt.timedelta(seconds=table.keep_s)
            while True:
                async with db.transaction() as uow:
                    done = await table.delete_before(uow.session, before, PRUNE_BATCH)
                count += done
                if done < PRUNE_BATCH:
                    break
        pruned[table.name] = count
        RETENTION_PRUNED.labels(table.name).inc(count)
    await measure(db, tables, now=now)
    return pruned


async def measure(db: Database, tables: Sequence[Retained], *, now: dt.datetime) -> None:
    """Sets each table's oldest-row age, the gauge that shows a pruner which is not running."""
    for table in tables:
        async with db.read() as session:
            oldest = await table.oldest(session)
        RETENTION_OLDEST_AGE.labels(table.name).set(
            max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        )


async def run_pruner(
    db: Database,
    tables: Sequence[Retained],
    stopping: asyncio.Event,
    *,
    interval_s: float,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Prunes every `interval_s` until `stopping`, the first time one interval after the start
    (a starting service catches up first, and a test's rows are not pruned under it); a failed
    pass (the database away) is logged and the next one tries again."""
    for table in tables:  # every series from the start
        RETENTION_PRUNED.labels(table.name)
    try:  # the ages from the start too: an operator checks them before the first pass
        await measure(db, tables, now=clock())
    except Exception as exc:
        log.warning("measuring retained tables failed (%s: %s)", type(exc).__name__, exc)
    await sleep_or_stop(stopping, interval_s)
    while not stopping.is_set():
        try:
            pruned = await prune(db, tables, now=clock())
        except Exception as exc:
            log.warning("pruning failed (%s: %s); trying again later", type(exc).__name__, exc)
        else:
            if any(pruned.values()):
                log.info(
                    "pruned %s",
                    ", ".join(f"{n} {name} rows" for name, n in pruned.items() if n),
                )
        await sleep_or_stop(stopping, interval_s)
