"""Database access: one async engine per service (SQLite by default, PostgreSQL by URL) and sessions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.sqlite_driver import DRIVER, begin_deferred, engine_arguments

log = logging.getLogger("sanpi.kit.db")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC (naive datetimes are refused everywhere)."""
    return dt.datetime.now(dt.UTC)


def _in_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: use timezone-aware UTC timestamps")
    return value.astimezone(dt.UTC)


# SQLAlchemy's default storage format for DATETIME on SQLite, positional.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = _in_utc(value)
        # SQLite has no time zone type; store naive UTC and restore the zone on read.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The text SQLite's DATETIME stores, in one step: the decorator's conversion followed by
        # the type's (a dict per value) cost ~3 µs a value against ~1.2, and a replay writes
        # four or five timestamps an event.
        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            v = _in_utc(value)
            return _SQLITE_DATETIME % (
                v.year,
                v.month,
                v.day,
                v.hour,
                v.minute,
                v.second,
                v.microsecond,
            )

        return process

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


AT_COMMIT = "sanpi.at_commit"
AtCommit = Callable[[AsyncSession], Awaitable[None]]


def at_commit(session: AsyncSession, name: str, work: AtCommit) -> None:
    """Runs `work` in this unit of work just before it commits, once however often it is asked
    for under one `name` (the last one asked for runs). Lets the records of a consumer batch share
    what each of them asks for, such as re-evaluating the rules of the projects they touched."""
    session.info.setdefault(AT_COMMIT, {})[name] = work


async def _run_at_commit(session: AsyncSession) -> None:
    pending: dict[str, AtCommit] = session.info.get(AT_COMMIT, {})
    while pending:  # work may ask for more work
        await pending.pop(next(iter(pending)))(session)


AFTER_COMMIT = "sanpi.after_commit"
AfterCommit = Callable[["Database"], Awaitable[None]]


def after_commit(session: AsyncSession, name: str, work: AfterCommit) -> None:
    """Runs `work` once this unit of work has committed, once however often it is asked for
    under one `name` (the last one asked for runs), and never if it rolls back. It runs after
    the SQLite write lock is released, with the Database, so it may open transactions of its
    own (work that a transaction's commit asks for but that need not hold its lock, such as
    evaluating rules for many requests together). `transaction()` returns only after it ran;
    its failure is logged, not raised: the unit of work has committed."""
    session.info.setdefault(AFTER_COMMIT, {})[name] = work


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
        self._signals: dict[str, asyncio.Event] = {}
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _write_lock(self) -> asyncio.Lock:
        """The lock a SQLite write transaction holds in this process (one per event loop: tests
        may run one Database under several loops)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    def commit_signal(self, flag: str) -> asyncio.Event:
        """An event set after any commit of a session marked with `session.info[flag] = True`.

        This is how a background loop (outbox relay, delivery worker) wakes the moment there is
        work, instead of waiting for its next poll.
        """
        return self._signals.setdefault(flag, asyncio.Event())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: domain rows, outbox rows and inbox rows commit together or not at all."""
        # SQLite has one writer at a time. Left to itself, a second connection of this process
        # waits in SQLite's busy handler, which sleeps 1 to 100 ms between tries: profiled under
        # load, the notification service spent 62 % of its samples in that sleep and delivered
        # ~70 webhooks/s. Queuing the writers of a process here hands the lock over at once;
        # the busy timeout still arbitrates between processes.
        after: dict[str, AfterCommit] = {}
        if self.is_sqlite:
            async with self._write_lock(), self._unit_of_work(after) as session:
                yield session
        else:
            async with self._unit_of_work(after) as session:
                yield session
        for name, work in after.items():
            try:
                await work(self)
            except Exception:
                log.exception("work after commit %s failed", name)

    @asynccontextmanager
    async def _unit_of_work(self, after: dict[str, AfterCommit]) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            session.info["event_source"] = self.event_source
            try:
                yield session
                await _run_at_commit(session)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            after.update(session.info.pop(AFTER_COMMIT, {}))
        for flag, signal in self._signals.items():
            if session.info.pop(flag, False):
                signal.set()

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
