"""Database access: one async engine per service (SQLite by default, PostgreSQL by URL) and sessions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.slots import CommitSignal
from sanpi.kit.sqlite_driver import DRIVER, begin_deferred, engine_arguments
from sanpi.kit.timestamps import UTCDateTime, utcnow
from sanpi.kit.unit_of_work import UnitOfWork

# The column type and the clock every table of the kit and the services uses, where they were
# always imported from.
__all__ = ["Database", "UTCDateTime", "utcnow"]

log = logging.getLogger("sanpi.kit.db")


SqliteSynchronous = Literal["FULL", "NORMAL"]


class Database:
    """An async engine and its sessions. `transaction()` commits on success and rolls back on error.

    `sqlite_synchronous`: what a SQLite commit waits for (settings.py says what each keeps);
    FULL unless a caller that may lose its last commits to a power loss says NORMAL."""

    def __init__(
        self,
        url: str,
        *,
        event_source: str = "/sanpi",
        busy_timeout_ms: int = 10_000,
        sqlite_synchronous: SqliteSynchronous = "FULL",
    ) -> None:
        self.url = url
        self.event_source = event_source
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        # sqlite+aiosqlite URLs get the kit's driver (sanpi.kit.sqlite_driver): one hand-over
        # to SQLite's thread a statement, BEGIN IMMEDIATE with the first statement.
        engine_url, driver_kwargs = engine_arguments(url)
        self.engine = create_async_engine(engine_url, **kwargs, **driver_kwargs)
        self._threaded = self.engine.dialect.driver == DRIVER
        if self.is_sqlite:
            _configure_sqlite(
                self.engine.sync_engine,
                busy_timeout_ms,
                threaded=self._threaded,
                synchronous=sqlite_synchronous,
            )
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._signals: dict[CommitSignal, asyncio.Event] = {}
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _write_lock(self) -> asyncio.Lock:
        """The lock a SQLite write transaction holds in this process (one per event loop: tests
        may run one Database under several loops)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    def commit_signal(self, signal: CommitSignal) -> asyncio.Event:
        """An event set after every commit of a unit of work that asked for `signal`
        (`uow.wake(signal)`): how a background loop (outbox relay, delivery worker) wakes the
        moment there is work, instead of waiting for its next poll."""
        return self._signals.setdefault(signal, asyncio.Event())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """One unit of work: domain rows, outbox rows and processed-event rows commit together
        or not at all; then its signals are set and its work after commit runs."""
        # SQLite has one writer at a time. Left to itself, a second connection of this process
        # waits in SQLite's busy handler, which sleeps 1 to 100 ms between tries: profiled under
        # load, the notification service spent 62 % of its samples in that sleep and delivered
        # ~70 webhooks/s. Queuing the writers of a process here hands the lock over at once;
        # the busy timeout still arbitrates between processes.
        if self.is_sqlite:
            async with self._write_lock(), self._unit_of_work() as uow:
                yield uow
        else:
            async with self._unit_of_work() as uow:
                yield uow
        for name, work in uow.after_commit_work.items():
            try:
                await work(self)
            except Exception:
                log.exception("work after commit %s failed", name)

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self._sessions() as session:
            uow = UnitOfWork(session, event_source=self.event_source)
            try:
                yield uow
                await uow.run_at_commit()
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        for signal in uow.signals:
            waiting = self._signals.get(signal)
            if waiting is not None:
                waiting.set()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session. On SQLite it does not take the write lock, so reads run in parallel."""
        # Closing (not rolling back) ends the transaction and keeps loaded objects readable.
        async with self._sessions() as session:
            if self._threaded:
                begin_deferred(await session.connection())
            else:
                await session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            yield session

    async def create_all(self, tables: Sequence[type[SQLModel]]) -> None:
        """Creates the given tables if missing, as services did before migrations (sanpi.kit.migrations
        now owns their schema): for tests of the kit, and to make such an old database in tests."""
        metadata_tables = [SQLModel.metadata.tables[t.__tablename__] for t in tables]  # type: ignore[index]
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all, tables=metadata_tables)

    async def ping(self) -> None:
        """Raises unless the database serves a transaction now. On SQLite the transaction begins
        IMMEDIATE, as every one but `read()`'s does, so it needs the write lock: another process
        holding it past the busy timeout is an outage for writers, and fails the ping too."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(
    sync_engine: Any, busy_timeout_ms: int, *, threaded: bool, synchronous: SqliteSynchronous
) -> None:
    if synchronous not in ("FULL", "NORMAL"):  # it goes into a PRAGMA as text
        raise ValueError(f"sqlite synchronous must be FULL or NORMAL, not {synchronous!r}")

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite's implicit, late BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # WAL: readers never block the writer.
        _switch_to_wal(cur, busy_timeout_ms / 1000)
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # IMMEDIATE takes the write lock at BEGIN: two transactions that read then write can
    # otherwise deadlock on the lock upgrade and fail at once, without waiting busy_timeout.
    # Read-only sessions (Database.read) ask for DEFERRED and never take it.
    if threaded:
        return  # the driver's dialect begins IMMEDIATE itself (and DEFERRED for read())

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _switch_to_wal(cursor: Any, timeout_s: float) -> None:
    # Switching a fresh file to WAL needs an exclusive lock. When two processes open the same new
    # file together, SQLite may answer SQLITE_BUSY at once without calling the busy handler (it
    # would otherwise deadlock on the lock upgrade), so wait here instead, up to the busy timeout.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
