"""The SQLite driver: one hand-over to the connection's thread a statement (a transaction's BEGIN
goes with its first statement), IMMEDIATE for writes and DEFERRED for reads, DBAPI answers as
sqlite3 gives them, and SQLAlchemy met only through the hooks it documents. An upgrade of
SQLAlchemy that changes any of it fails here."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import CursorResult, text
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Database
from sanpi.kit.db import UTCDateTime
from sanpi.kit.sqlite_driver import SQLiteThread, SQLiteThreadDialect


async def sql(session: AsyncSession, statement: str) -> CursorResult[Any]:
    return await (await session.connection()).execute(text(statement))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as uow:
        session = uow.session
        await sql(session, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield database
    await database.dispose()


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls sent to the connections' threads."""
    calls: list[str] = []
    original = SQLiteThread.call

    def counted(self: SQLiteThread, fn: Callable[..., Any], *args: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return original(self, fn, *args)

    monkeypatch.setattr(SQLiteThread, "call", counted)
    return calls


async def test_the_services_sqlite_urls_get_the_driver(tmp_path: Path) -> None:
    for url in (f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", f"sqlite+sanpi:///{tmp_path / 'b.db'}"):
        database = Database(url)
        try:
            assert isinstance(database.engine.dialect, SQLiteThreadDialect)
            assert isinstance(database.engine.pool, AsyncAdaptedQueuePool)
            async with database.read() as session:
                assert (await sql(session, "SELECT 1")).scalar_one() == 1
        finally:
            await database.dispose()
    memory = Database("sqlite+aiosqlite://")
    try:
        assert isinstance(memory.engine.pool, StaticPool)  # one connection holds the database
        async with memory.transaction() as uow:
            session = uow.session
            await sql(session, "CREATE TABLE m (x)")
            await sql(session, "INSERT INTO m VALUES (1)")
        async with memory.read() as session:
            assert (await sql(session, "SELECT x FROM m")).scalar_one() == 1
    finally:
        await memory.dispose()


async def test_a_statement_is_one_hand_over_to_the_sqlite_thread(
    db: Database, hand_overs: list[str]
) -> None:
    async with db.transaction() as uow:
        session = uow.session
        await sql(session, "SELECT 1")  # with BEGIN IMMEDIATE before it
        assert hand_overs == ["_statement"]
        rows = (await sql(session, "SELECT id, name FROM t")).all()
        assert hand_overs == ["_statement"] * 2  # SQLAlchemy's own adapter: four
        await sql(session, "INSERT INTO t (name) VALUES ('a')")
        assert len(hand_overs) == 3
    # the commit, and no rollback when the pool takes the connection back: nothing is left open
    assert hand_overs[3:] == ["commit"]
    assert rows == []


async def test_begin_goes_to_sqlite_with_the_first_statement(
    db: Database, tmp_path: Path, hand_overs: list[str]
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)

    async def read_write_fail() -> None:
        async with db.transaction() as uow:
            session = uow.session
            await sql(session, "SELECT count(*) FROM t")
            assert len(hand_overs) == 1
            # BEGIN IMMEDIATE ran: the write lock is taken by a transaction that only read.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await sql(session, "INSERT INTO t (name) VALUES ('a')")
            raise RuntimeError("refused")  # rolls back what the transaction wrote

    with pytest.raises(RuntimeError, match="refused"):
        await read_write_fail()
    async with db.read() as session:  # BEGIN DEFERRED: no write lock
        assert (await sql(session, "SELECT count(*) FROM t")).scalar_one() == 0
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()
    hand_overs.clear()
    async with db.transaction():
        pass  # nothing ran: nothing to commit either
    async with db.read():
        pass
    assert hand_overs == []
    # BEGIN is the dialect's: a connection event listener would make SQLAlchemy dispatch
    # events around every statement.
    assert not db.engine.sync_engine._has_events


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(db: Database) -> None:
    def left_open(connection: Any) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("INSERT INTO t (name) VALUES ('left')")

    async with db.engine.connect() as connection:
        await connection.run_sync(left_open)
    async with db.transaction() as uow:  # BEGIN IMMEDIATE: no transaction left open
        await sql(uow.session, "INSERT INTO t (name) VALUES ('next')")
    async with db.read() as session:
        names = (await sql(session, "SELECT name FROM t")).scalars().all()
    assert names == ["next"]


async def test_rows_rowcount_lastrowid_and_executemany_answer_as_sqlite3_gives_them(
    db: Database,
) -> None:
    async with db.transaction() as uow:
        session = uow.session
        connection = await session.connection()
        many = await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
        )
        assert many.rowcount == 2
        one = await connection.execute(text("INSERT INTO t (name) VALUES ('c')"))
        assert one.lastrowid == 3
        changed = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id < 3"))
        assert changed.rowcount == 2
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(r) for r in result] == [(1, "a!"), (2, "b!"), (3, "c")]
        returned = await connection.execute(
            text("INSERT INTO t (name) VALUES ('d') RETURNING id, name")
        )
        assert returned.one() == (4, "d")
        partial = await connection.execute(text("SELECT id FROM t ORDER BY id"))
        assert partial.fetchone() == (1,)
        assert partial.fetchmany(2) == [(2,), (3,)]
        assert partial.fetchall() == [(4,)]
        # the SQL functions SQLAlchemy's SQLite dialect registers on each connection
        matched = await connection.execute(sa.select(sa.literal("abc").regexp_match("^a")))
        assert matched.scalar_one() == 1


class Kept(SQLModel, table=True):
    __tablename__ = "driver_kept"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    count: int
    share: float
    done: bool
    payload: bytes
    data: dict[str, Any] = Field(sa_type=sa.JSON)
    day: dt.date
    at: dt.datetime = Field(sa_type=UTCDateTime)


async def test_the_orm_reads_back_what_it_wrote(db: Database) -> None:
    await db.create_all([Kept])
    at = dt.datetime(2023, 3, 10, 8, 0, 0, 123, tzinfo=dt.UTC)
    kept = Kept(
        name="签约", count=3, share=0.25, done=True, payload=b"\x00\xff", data={"旬": [1, 2]},
        day=dt.date(2023, 3, 10), at=at,
    )  # fmt: skip
    async with db.transaction() as uow:
        session = uow.session
        session.add(kept)
        await session.flush()
        assert kept.id == 1  # the lastrowid of the ORM's INSERT
    async with db.read() as session:
        back = (await session.exec(select(Kept))).one()
    assert back.model_dump() == kept.model_dump()
    assert (type(back.done), type(back.day), back.at.tzinfo) == (bool, dt.date, dt.UTC)


async def test_database_errors_come_back_as_sqlalchemy_errors(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as uow:
            await sql(uow.session, "INSERT INTO t (name) VALUES ('a'), ('a')")
    with pytest.raises(OperationalError):
        async with db.read() as session:
            await sql(session, "SELECT nothing FROM nowhere")
    async with db.read() as session:  # the failed transaction was rolled back
        assert (await sql(session, "SELECT count(*) FROM t")).scalar_one() == 0


async def test_a_statement_cancelled_in_the_thread_leaves_the_database_usable(
    db: Database,
) -> None:
    slow = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)"
        " SELECT count(*) FROM n"
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05), db.transaction() as uow:
            await sql(uow.session, slow)
    async with db.transaction() as uow:  # the write lock was given back
        await sql(uow.session, "INSERT INTO t (name) VALUES ('after')")
    async with db.read() as session:
        assert (await sql(session, "SELECT name FROM t")).scalars().all() == ["after"]


def test_the_dialect_overrides_only_hooks_of_sqlalchemys_dialect_interface() -> None:
    # SQLAlchemy documents these (sqlalchemy.engine.interfaces.Dialect); a hook it renames or
    # drops would otherwise be left unused, and the driver silently slow or wrong.
    interface = set(vars(Dialect)) | set(inspect.get_annotations(Dialect))
    overridden = {name for name in vars(SQLiteThreadDialect) if not name.startswith("__")}
    assert overridden <= interface, overridden - interface
    assert {"do_begin", "import_dbapi", "is_async"} <= overridden


def test_an_answer_for_a_loop_closed_meanwhile_is_dropped_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A statement still running when its event loop closes (a process ending without disposing
    of its engine) once killed the thread with "RuntimeError: Event loop is closed" on stderr."""
    import threading

    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    release = threading.Event()

    def fails() -> None:
        release.wait(10)
        raise sqlite3.OperationalError("database is locked")

    loop = asyncio.new_event_loop()

    async def start() -> SQLiteThread:
        driver = SQLiteThread()
        driver.call(release.wait, 10)  # answers a value
        driver.call(fails)  # answers an error
        return driver

    driver = loop.run_until_complete(start())
    loop.close()
    release.set()
    finished = threading.Event()
    driver._jobs.put((None, finished.set, ()))  # runs after both answers were handed over
    assert finished.wait(10)
    driver.terminate()
    assert died == []
