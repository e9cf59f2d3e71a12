"""The services' SQLite driver: the stdlib sqlite3 in a thread of its own per connection, one
hand-over to that thread a statement, behind a SQLAlchemy dialect built on documented hooks only."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

from sqlalchemy import URL, make_url
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, StaticPool

# Why a driver of our own. An async engine talks to SQLite through a thread: each call there
# wakes the event loop with its answer, ~30 CPU-µs a hand-over. SQLAlchemy's aiosqlite adapter
# makes four a statement (open a cursor, execute, fetch, close), a BEGIN statement of its own,
# and a rollback when the pool takes a connection back even after its commit: a progress
# report's ~18 statements paid ~70 hand-overs, against ~20 here. Getting there by subclassing
# that adapter meant overriding its private members, which any SQLAlchemy release may change.
# This driver owns the thread, the DBAPI connection and the cursor, and meets SQLAlchemy where
# its documentation says a dialect may: `registry.register`; Dialect hooks (`import_dbapi`,
# `do_begin`, `do_terminate`, `get_driver_connection`, `is_async`); create_async_engine's
# `poolclass`; `AdaptedConnection.run_async` to wait for the thread. One undocumented name is
# asked of it, `Cursor._async_soft_close`. tests/unit/test_sqlite_driver.py holds what it relies
# on; libs/kit/pyproject.toml keeps SQLAlchemy below its next minor version.

DRIVER = "sanpi"
"""The URL's driver name: sqlite+sanpi:///path (sqlite+aiosqlite URLs are given this driver)."""


@dataclass(slots=True)
class _Done:
    """What a statement left on its (closed) sqlite3 cursor."""

    description: Any
    rowcount: int
    lastrowid: int | None
    rows: list[Any]


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # its waiter was cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _answer(
    future: asyncio.Future[Any],
    settle: Callable[[asyncio.Future[Any], Any], None],
    value: Any,
) -> None:
    """Hands `value` to the loop that waits for it, unless that loop has closed meanwhile (a
    process or a test that ended without disposing of its engine): then nobody waits, and the
    thread must not die with a traceback on stderr ("Event loop is closed")."""
    try:
        future.get_loop().call_soon_threadsafe(settle, future, value)
    except RuntimeError:
        if not future.get_loop().is_closed():
            raise


_Job = tuple[asyncio.Future[Any] | None, Callable[..., Any], tuple[Any, ...]]


class SQLiteThread:
    """The driver-level connection: a sqlite3 connection and the one thread that uses it. Each
    call is a job for that thread and a future the event loop awaits."""

    def __init__(self) -> None:
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self.sqlite: sqlite3.Connection | None = None
        # A daemon, as SQLAlchemy's aiosqlite adapter makes its threads: a connection nobody
        # closed never holds up the interpreter's exit.
        self._thread = threading.Thread(target=self._serve, name="sanpi-sqlite", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        jobs = self._jobs
        while (job := jobs.get()) is not None:
            future, fn, args = job
            try:
                result = fn(*args)
            except BaseException as error:
                if future is not None:
                    _answer(future, _fail, error)
            else:
                if future is not None:
                    _answer(future, _settle, result)

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """`fn(*args)` in the thread: one hand-over."""
        future = asyncio.get_running_loop().create_future()
        self._jobs.put((future, fn, args))
        return future

    def open(self, args: Sequence[Any], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        return self.call(self._open, args, kwargs)

    def _open(self, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        # isolation_level=None: sqlite3 issues no BEGIN of its own; SQLAlchemy's transactions
        # begin through the dialect's do_begin. Only this thread uses the connection, and the
        # loop's thread reads in_transaction (a flag, sqlite3_get_autocommit) without a call.
        self.sqlite = sqlite3.connect(
            *args, **{**kwargs, "isolation_level": None, "check_same_thread": False}
        )

    def statement(
        self, begin: str | None, operation: Any, parameters: Any, many: bool
    ) -> asyncio.Future[Any]:
        """Runs `begin` if given, then the statement, and fetches its rows: one hand-over."""
        return self.call(self._statement, begin, operation, parameters, many)

    def _statement(self, begin: str | None, operation: Any, parameters: Any, many: bool) -> _Done:
        connection = self.sqlite
        assert connection is not None, "an open connection"
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

    @property
    def in_transaction(self) -> bool:
        """Whether SQLite has a transaction open (a flag: no hand-over)."""
        return self.sqlite is not None and self.sqlite.in_transaction

    def commit(self) -> asyncio.Future[Any]:
        return self.call(self._connected("commit"))

    def rollback(self) -> asyncio.Future[Any]:
        return self.call(self._connected("rollback"))

    def set_isolation_level(self, value: str | None) -> asyncio.Future[Any]:
        return self.call(setattr, self.sqlite, "isolation_level", value)

    def create_function(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        return self.call(self._with_kwargs, self._connected("create_function"), args, kwargs)

    @staticmethod
    def _with_kwargs(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        return fn(*args, **kwargs)

    def _connected(self, method: str) -> Callable[..., Any]:
        if self.sqlite is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        method_of: Callable[..., Any] = getattr(self.sqlite, method)
        return method_of

    def close(self) -> asyncio.Future[Any]:
        """Closes the sqlite3 connection, then ends the thread."""
        future = self.call(self._close)
        self._jobs.put(None)
        return future

    def terminate(self) -> None:
        """Closes without waiting: for the pool's clean-up outside the event loop's tasks."""
        self._jobs.put((None, self._close, ()))
        self._jobs.put(None)

    def _close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
            self.sqlite = None


class Cursor:
    """The DBAPI cursor SQLAlchemy uses: a statement and its rows in one call to the thread;
    fetching and closing need none."""

    __slots__ = ("_adapted", "_next", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, adapted: Connection) -> None:
        self._adapted = adapted
        self._rows: list[Any] = []
        self._next = 0
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        adapted = self._adapted
        begin, adapted.begin = adapted.begin, None
        done: _Done = adapted.run_async(
            lambda driver: driver.statement(begin, operation, parameters, many)
        )
        self.description = done.description
        self.rowcount = done.rowcount
        self.lastrowid = done.lastrowid
        self._rows = done.rows
        self._next = 0

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, True)

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchmany(self, size: int | None = None) -> list[Any]:
        start = self._next
        self._next = min(len(self._rows), start + (self.arraysize if size is None else size))
        return self._rows[start : self._next]

    def fetchall(self) -> list[Any]:
        rows = self._rows if self._next == 0 else self._rows[self._next :]
        self._rows, self._next = [], 0
        return rows

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    def close(self) -> None:
        self._rows, self._next = [], 0

    async def _async_soft_close(self) -> None:
        """Nothing to do: the rows were fetched with the statement. SQLAlchemy's asyncio
        extension calls this on every async dialect's cursor after a buffered execute (since
        2.0.44), though no documentation names it: the one undocumented name the driver has to
        answer to, and a test calls AsyncConnection.execute through it."""

    def nextset(self) -> None:
        return None  # sqlite3 has no further result sets

    def setinputsizes(self, *sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None


class Connection(AdaptedConnection):
    """The DBAPI connection SQLAlchemy uses. A transaction's BEGIN goes to SQLite with its first
    statement, in that statement's hand-over: as a statement of its own it cost SQLAlchemy's
    work for a statement (~0.1 CPU-ms) and a hand-over, in every transaction. A commit or a
    rollback with no transaction open in SQLite (nothing ran, or the pool's reset after a
    commit) hands nothing over."""

    __slots__ = ("_driver", "begin")

    def __init__(self, driver: SQLiteThread) -> None:
        # AdaptedConnection's driver_connection and run_async read _connection, which it types
        # as the protocol of SQLAlchemy's own adapters' drivers.
        self._connection = driver  # type: ignore[assignment]
        self._driver = driver
        self.begin: str | None = None

    def begin_with_next_statement(self, begin: str) -> None:
        """Runs `begin` (`BEGIN IMMEDIATE`, …) just before the next statement."""
        self.begin = begin

    def cursor(self) -> Cursor:
        return Cursor(self)

    @property
    def in_transaction(self) -> bool:
        return self._driver.in_transaction

    def commit(self) -> None:
        self.begin = None
        if self._driver.in_transaction:
            self.run_async(SQLiteThread.commit)

    def rollback(self) -> None:
        self.begin = None
        if self._driver.in_transaction:
            self.run_async(SQLiteThread.rollback)

    @property
    def isolation_level(self) -> str | None:
        sqlite = self._driver.sqlite
        return None if sqlite is None else sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self.run_async(lambda driver: driver.set_isolation_level(value))

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.run_async(lambda driver: driver.create_function(*args, **kwargs))

    def close(self) -> None:
        self.run_async(SQLiteThread.close)

    def terminate(self) -> None:
        self._driver.terminate()


class DBAPI:
    """The DBAPI module the dialect hands SQLAlchemy: sqlite3's names, and a connect() whose
    connection lives in a thread of its own."""

    paramstyle = "qmark"
    apilevel = "2.0"
    threadsafety = 1
    Warning = sqlite3.Warning
    Error = sqlite3.Error
    InterfaceError = sqlite3.InterfaceError
    DatabaseError = sqlite3.DatabaseError
    DataError = sqlite3.DataError
    OperationalError = sqlite3.OperationalError
    IntegrityError = sqlite3.IntegrityError
    InternalError = sqlite3.InternalError
    ProgrammingError = sqlite3.ProgrammingError
    NotSupportedError = sqlite3.NotSupportedError
    Binary = sqlite3.Binary
    PARSE_DECLTYPES = sqlite3.PARSE_DECLTYPES
    PARSE_COLNAMES = sqlite3.PARSE_COLNAMES
    sqlite_version = sqlite3.sqlite_version
    sqlite_version_info = sqlite3.sqlite_version_info

    def connect(self, *args: Any, **kwargs: Any) -> Connection:
        adapted = Connection(SQLiteThread())
        try:
            adapted.run_async(lambda driver: driver.open(args, kwargs))
        except BaseException:
            adapted.terminate()
            raise
        return adapted


class SQLiteThreadDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect (SQL, types, connect arguments: the driver is sqlite3) made
    async by the thread of `DBAPI.connect`. Its transactions begin IMMEDIATE, which takes the
    write lock at BEGIN: two transactions that read then write would otherwise deadlock on the
    lock upgrade and fail at once, without waiting for busy_timeout. `begin_deferred` makes a
    read-only one DEFERRED."""

    driver = DRIVER
    is_async = True
    has_terminate = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return DBAPI()

    def get_driver_connection(self, connection: Any) -> Any:
        return connection.driver_connection

    def do_begin(self, dbapi_connection: Any) -> None:
        # A dialect's own begin, not a "begin" event listener: any connection event listener
        # makes SQLAlchemy dispatch its events around every statement (~7 % of a lone progress
        # report's Python calls).
        dbapi_connection.dbapi_connection.begin_with_next_statement("BEGIN IMMEDIATE")

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()


registry.register(f"sqlite.{DRIVER}", __name__, SQLiteThreadDialect.__name__)


def engine_arguments(url: str) -> tuple[URL, dict[str, Any]]:
    """The URL and the create_async_engine arguments of an engine for `url`: this driver for the
    services' sqlite+aiosqlite URLs, with an asyncio pool (the pysqlite dialect's own choice is
    a pool for threads)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername=f"sqlite+{DRIVER}")
    if parsed.drivername != f"sqlite+{DRIVER}":
        return parsed, {}
    # As SQLAlchemy's aiosqlite dialect: one shared connection for a database in memory.
    in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    pool: type[Pool] = StaticPool if in_memory else AsyncAdaptedQueuePool
    return parsed, {"poolclass": pool}


def begin_deferred(connection: AsyncConnection) -> None:
    """Makes the transaction the connection has just begun (no statement yet) a DEFERRED one:
    it takes no write lock."""
    sync = connection.sync_connection
    assert sync is not None, "a connection that has begun a transaction"
    adapted = sync.connection.dbapi_connection
    assert isinstance(adapted, Connection), "a connection of this driver"
    adapted.begin_with_next_statement("BEGIN DEFERRED")
