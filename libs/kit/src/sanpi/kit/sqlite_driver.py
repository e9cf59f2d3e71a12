"""SQLAlchemy's aiosqlite adapter with one hand-over to the SQLite thread per statement."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util.concurrency import await_

# aiosqlite runs each call in its connection's thread and wakes the event loop with the answer:
# ~30 µs of CPU a hand-over. SQLAlchemy's adapter makes four a statement (open a cursor,
# execute, fetch, close); a progress report's ~18 statements paid ~70 of them. Here a statement
# is one call that does all four in the thread.


@dataclass(slots=True)
class _Done:
    """What a statement left on its (closed) sqlite3 cursor."""

    description: Any
    rowcount: int
    lastrowid: int | None
    rows: list[Any]
    arraysize: int = 1

    def close(self) -> None:
        """The sqlite3 cursor was closed in the thread already."""


_NOTHING = _Done(None, -1, None, [])


def _run(
    connection: sqlite3.Connection,
    begin: str | None,
    operation: Any,
    parameters: Any,
    many: bool = False,
) -> _Done:
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return _Done(description, cursor.rowcount, cursor.lastrowid, rows)
    finally:
        cursor.close()


async def _in_thread(adapted: Any, *args: Any) -> _Done:
    """`_run` in the aiosqlite connection's thread, after the BEGIN it waits for: one hand-over."""
    begin, adapted._begin = adapted._begin, None
    connection = adapted._connection
    call: Callable[..., Awaitable[_Done]] = connection._execute
    return await call(_run, connection._conn, begin, *args)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement, fetch and close are one call in the connection's thread."""

    __slots__ = ()
    # Its "cursor" is the finished statement's _Done: closing it needs no await.
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _NOTHING

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            done = await _in_thread(self._adapt_connection, operation, parameters)
            self._cursor = done  # type: ignore[assignment]
            if done.description:
                self._rows = collections.deque(done.rows)
            return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            done = await _in_thread(self._adapt_connection, operation, seq_of_parameters, True)
            self._cursor = done  # type: ignore[assignment]
            return None

    def nextset(self) -> None:
        return None  # sqlite3 has no further result sets

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """A connection whose BEGIN goes to SQLite with the transaction's first statement, in its
    hand-over: as a statement of its own it cost SQLAlchemy's work for a statement (~0.1
    CPU-ms) and a hand-over, in every transaction. A transaction without a statement has
    nothing to commit or roll back in SQLite."""

    __slots__ = ("_begin",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def begin_with_next_statement(self, begin: str) -> None:
        """Runs `begin` (`BEGIN IMMEDIATE`, …) just before the next statement."""
        self._begin = begin

    def commit(self) -> None:
        if self._begin is None:
            super().commit()
        self._begin = None

    def rollback(self) -> None:
        if self._begin is None:
            super().rollback()
        self._begin = None

    @property
    def in_transaction(self) -> bool:
        """Whether SQLite has a transaction open (sqlite3_get_autocommit: a flag, no hand-over)."""
        connection = self._connection._connection  # None once closed
        return connection is not None and connection.in_transaction


def begin_immediate(connection: Any) -> None:
    """The dialect's do_begin: BEGIN IMMEDIATE, with the transaction's first statement."""
    connection.dbapi_connection.begin_with_next_statement("BEGIN IMMEDIATE")


def begin_deferred(connection: AsyncConnection) -> None:
    """Makes the transaction the connection has just begun (no statement yet) a DEFERRED one:
    it takes no write lock."""
    sync = connection.sync_connection
    assert sync is not None, "a connection that has begun a transaction"
    adapted = sync.connection.dbapi_connection
    assert isinstance(adapted, OneTripConnection)
    adapted.begin_with_next_statement("BEGIN DEFERRED")


def one_trip_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's reset of a returned connection, for an engine made with
    pool_reset_on_return=None: rolls back only a transaction still open (SQLAlchemy's own reset
    also rolls back after a commit, when SQLite has none)."""
    if state.asyncio_safe and dbapi_connection.in_transaction:
        dbapi_connection.rollback()
    dbapi_connection._begin = None  # a transaction that ran no statement


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to give create_async_engine(module=...) for a sqlite+aiosqlite URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        creator = kw.pop("async_creator_fn", None)
        connection = creator(*arg, **kw) if creator else aiosqlite.connect(*arg, **kw)
        if not creator:
            connection._thread.daemon = True  # as SQLAlchemy's adapter does: never block exit
        return OneTripConnection(self, await_(connection))
