"""Telling the infrastructure's failures (database away or locked, disk full, broker) from a
record's: real errors from SQLite, asyncpg and the OS, wrapped as SQLAlchemy wraps them."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc

from sanpi.kit import Database
from sanpi.kit.transient import Transient, transient_kind
from tests.conftest import free_port

pytestmark = pytest.mark.db_independent


def test_a_write_lock_another_process_holds_is_locked_raw_and_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN EXCLUSIVE")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            writer.execute("BEGIN IMMEDIATE")
        assert transient_kind(raised.value) is Transient.LOCKED
        wrapped = sa_exc.OperationalError("BEGIN IMMEDIATE", {}, raised.value)
        assert transient_kind(wrapped) is Transient.LOCKED
    finally:
        writer.close()
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_locked_database_seen_through_the_kit_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "kit.db"
    db = Database(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=50)
    await db.ping()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sa_exc.OperationalError) as raised:
            async with db.transaction() as uow:
                # BEGIN IMMEDIATE (the write lock) goes with the first statement.
                await (await uow.session.connection()).exec_driver_sql("SELECT 1")
        assert transient_kind(raised.value) is Transient.LOCKED
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await db.dispose()


def test_sqlite_errors_of_the_statement_are_the_records() -> None:
    connection = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as no_table:
        connection.execute("SELECT * FROM nowhere")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    connection.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        connection.execute("INSERT INTO t VALUES (1)")
    assert transient_kind(no_table.value) is None
    assert transient_kind(sa_exc.IntegrityError("INSERT", {}, duplicate.value)) is None


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("database or disk is full", Transient.DISK_FULL),
        ("disk I/O error", Transient.DATABASE),
        ("unable to open database file", Transient.DATABASE),
        ("attempt to write a readonly database", Transient.DATABASE),
        ("database disk image is malformed", Transient.DATABASE),
    ],
)
def test_sqlite_messages_without_their_code(message: str, kind: Transient) -> None:
    assert transient_kind(sqlite3.OperationalError(message)) is kind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            asyncpg.AdminShutdownError("terminating connection due to administrator command"),
            Transient.DATABASE,
        ),
        (asyncpg.CannotConnectNowError("the database system is starting up"), Transient.DATABASE),
        (
            asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
            Transient.DATABASE,
        ),
        (asyncpg.DiskFullError("could not extend file"), Transient.DISK_FULL),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), Transient.DATABASE),
        (
            asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
            Transient.DATABASE,
        ),
        (asyncpg.UniqueViolationError("duplicate key value"), None),
        (asyncpg.UndefinedTableError('relation "nowhere" does not exist'), None),
        (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), None),
    ],
)
def test_postgresql_errors_by_their_sqlstate_raw_and_wrapped(
    error: Exception, kind: Transient | None
) -> None:
    assert transient_kind(error) is kind
    # SQLAlchemy's asyncpg adapter raises its own error "from" asyncpg's, inside a DBAPIError.
    adapted = RuntimeError("adapted")
    adapted.__cause__ = error
    assert transient_kind(sa_exc.DBAPIError("SELECT 1", {}, adapted)) is kind


async def test_a_postgresql_that_is_not_there_is_unavailable() -> None:
    db = Database(f"postgresql+asyncpg://sanpi:x@127.0.0.1:{free_port()}/nowhere")
    try:
        with pytest.raises(OSError, match="Connect call failed") as raised:
            await db.ping()
    finally:
        await db.dispose()
    assert transient_kind(raised.value) is Transient.DATABASE


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), Transient.DISK_FULL),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), Transient.DATABASE),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), Transient.DATABASE),
        (OSError(errno.EHOSTUNREACH, "No route to host"), Transient.DATABASE),
        # These say too little: the consumer asks the database (a ping) before it decides.
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), None),
        (TimeoutError(), None),
        (PermissionError(errno.EACCES, "Permission denied"), None),
        (KafkaConnectionError("no broker"), Transient.BROKER),
        (KafkaTimeoutError(), Transient.BROKER),
        (RuntimeError("downstream rule exploded"), None),
        (ValueError("bad date"), None),
    ],
)
def test_os_and_broker_errors(error: Exception, kind: Transient | None) -> None:
    assert transient_kind(error) is kind


def test_a_cause_anywhere_in_the_chain_counts() -> None:
    outer = ValueError("while applying the event")
    outer.__cause__ = ConnectionResetError(errno.ECONNRESET, "reset")
    assert transient_kind(outer) is Transient.DATABASE
    context = RuntimeError("in the handler's except block")
    context.__context__ = sqlite3.OperationalError("database is locked")
    assert transient_kind(sa_exc.StatementError("x", "SELECT 1", {}, context)) is Transient.LOCKED
