"""The SQLite driver: one hand-over to aiosqlite's thread a statement (a transaction's BEGIN goes
with its first statement), DBAPI answers unchanged."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import CursorResult, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Database


async def sql(session: AsyncSession, statement: str) -> CursorResult[Any]:
    return await (await session.connection()).execute(text(statement))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as session:
        await sql(session, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield database
    await database.dispose()


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls sent to aiosqlite's thread."""
    calls: list[str] = []
    original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_hand_over_to_the_sqlite_thread(
    db: Database, hand_overs: list[str]
) -> None:
    async with db.transaction() as session:
        await sql(session, "SELECT 1")  # with BEGIN IMMEDIATE before it
        hand_overs.clear()
        rows = (await sql(session, "SELECT id, name FROM t")).all()
        assert len(hand_overs) == 1  # SQLAlchemy's adapter: cursor, execute, fetchall, close
        await sql(session, "INSERT INTO t (name) VALUES ('a')")
        assert len(hand_overs) == 2
    # the commit, and no rollback when the pool takes the connection back: nothing is left open
    assert hand_overs[2:] == ["commit"]
    assert rows == []


async def test_begin_goes_to_sqlite_with_the_first_statement(
    db: Database, tmp_path: Path, hand_overs: list[str]
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)

    async def read_write_fail() -> None:
        async with db.transaction() as session:
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
    async with db.transaction() as session:  # BEGIN IMMEDIATE: no transaction left open
        await sql(session, "INSERT INTO t (name) VALUES ('next')")
    async with db.read() as session:
        names = (await sql(session, "SELECT name FROM t")).scalars().all()
    assert names == ["next"]


async def test_rows_rowcount_lastrowid_and_executemany_answer_as_before(db: Database) -> None:
    async with db.transaction() as session:
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


async def test_database_errors_come_back_as_sqlalchemy_errors(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await sql(session, "INSERT INTO t (name) VALUES ('a'), ('a')")
    with pytest.raises(OperationalError):
        async with db.read() as session:
            await sql(session, "SELECT nothing FROM nowhere")
    async with db.read() as session:  # the failed transaction was rolled back
        assert (await sql(session, "SELECT count(*) FROM t")).scalar_one() == 0
