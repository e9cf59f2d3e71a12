"""The database layer: aware timestamps, reads beside a writer, rollback, work after commit,
what a SQLite commit waits for."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.types import TypeDecorator
from sqlmodel import select

from sanpi.kit import KIT_TABLES, Database, OutboxMessage, Runtime, ServiceSpec, deferred
from sanpi.kit.db import UTCDateTime
from sanpi.kit.dedup import ProcessedEvent
from sanpi.registry.settings import RegistrySettings


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.create_all(list(KIT_TABLES))
    yield database
    await database.dispose()


async def test_timestamps_come_back_timezone_aware_in_utc(db: Database) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    written = dt.datetime(2023, 1, 28, 9, 30, tzinfo=shanghai)
    async with db.transaction() as uow:
        uow.session.add(
            ProcessedEvent(
                consumer="c", source="s", event_id="e", event_type="t", processed_at=written
            )
        )
    async with db.read() as session:
        row = (await session.exec(select(ProcessedEvent))).one()
    assert row.processed_at == written
    assert row.processed_at.tzinfo == dt.UTC


async def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as uow:
            uow.session.add(
                ProcessedEvent(
                    consumer="c",
                    source="s",
                    event_id="e",
                    event_type="t",
                    processed_at=dt.datetime(2023, 1, 28),  # noqa: DTZ001 - the point of the test
                )
            )


def outbox_row(**fields: object) -> dict[str, object]:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    return {
        "event_id": "e-1",
        "event_type": "sanpi.alert.raised.v1",
        "topic": "sanpi.alerts",
        "key": "梧桐",
        "value": '{"title":"签约后 \\"120\\" 天未开工"}'.encode(),
        "headers": {"ce_id": "e-1", "title": "未开工", "none": None},
        "created_at": dt.datetime(2023, 1, 28, 9, 30, 0, 5, tzinfo=shanghai),
        **fields,
    }


async def test_rows_inserted_at_commit_are_stored_as_an_orm_insert_stores_them(
    db: Database,
) -> None:
    # insert_at_commit converts the values itself on SQLite (SQLAlchemy's executemany spent as
    # long building each row's parameters): the stored bytes must be SQLAlchemy's.
    async with db.transaction() as uow:
        uow.insert_at_commit(sa.insert(OutboxMessage), outbox_row())
        uow.insert_at_commit(sa.insert(OutboxMessage), outbox_row(event_id="e-2"))
    async with db.transaction() as uow:
        connection = await uow.session.connection()
        await connection.execute(
            sa.insert(OutboxMessage), [outbox_row(), outbox_row(event_id="e-2")]
        )
    async with db.engine.connect() as connection:
        stored = (
            await connection.exec_driver_sql(
                "SELECT event_id, event_type, topic, key, value, headers, created_at"
                " FROM outbox ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in stored[:2]] == [tuple(row) for row in stored[2:]]
    assert [row[0] for row in stored] == ["e-1", "e-2", "e-1", "e-2"]
    # The one-pass conversion reads the compiled statement's ExpandedState; an upgrade that
    # changes it falls back to executemany, correct but slower: this says so instead.
    plan = deferred._plan(sa.insert(OutboxMessage), db.engine.dialect, tuple(outbox_row()))
    assert (plan is not None) == (db.engine.dialect.name == "sqlite")


async def test_rows_inserted_at_commit_get_the_defaults_sqlalchemy_computes(db: Database) -> None:
    metadata = sa.MetaData()
    numbered = iter(range(100, 200))
    table = sa.Table(
        "at_commit_defaults",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String),
        sa.Column("number", sa.Integer, default=lambda: next(numbered)),
    )
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    # a key the rows lack has a default computed in Python: SQLAlchemy's executemany inserts
    assert deferred._plan(sa.insert(table), db.engine.dialect, ("name",)) is None
    async with db.transaction() as uow:
        uow.insert_at_commit(sa.insert(table), {"name": "a"})
        uow.insert_at_commit(sa.insert(table), {"name": "b"})
    async with db.read() as session:
        connection = await session.connection()
        rows = (await connection.execute(sa.select(table.c.name, table.c.number))).all()
    assert sorted(tuple(row) for row in rows) == [("a", 100), ("b", 101)]


async def test_naive_timestamps_are_refused_at_commit_too(db: Database) -> None:
    naive = dt.datetime(2023, 1, 28)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as uow:
            uow.insert_at_commit(sa.insert(OutboxMessage), outbox_row(created_at=naive))
    async with db.read() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_a_read_does_not_wait_for_an_open_write_transaction(db: Database) -> None:
    async with db.transaction() as uow:
        writer = uow.session
        writer.add(OutboxMessage(event_id="1", event_type="t", topic="x", key="k", value=b"v"))
        await writer.flush()  # holds SQLite's write lock until commit

        async def read() -> int:
            async with db.read() as reader:
                return len((await reader.exec(select(OutboxMessage))).all())

        # busy_timeout is 10 s: a read that took the write lock would block that long, not 5 s.
        assert await asyncio.wait_for(read(), timeout=5) == 0
    assert await read() == 1


async def test_work_after_commit_runs_once_committed_outside_the_write_lock(db: Database) -> None:
    seen: list[int] = []

    async def count(database: Database) -> None:
        # A transaction of its own: on SQLite it would wait forever for the write lock if the
        # committing unit of work still held it (hence the deadline).
        async with asyncio.timeout(5), database.transaction() as uow:
            seen.append(len((await uow.session.exec(select(OutboxMessage))).all()))

    async with db.transaction() as uow:
        uow.session.add(OutboxMessage(event_id="1", event_type="t", topic="x", key="k", value=b"v"))
        uow.after_commit("count", count)
        uow.after_commit("count", count)  # once per name
        assert seen == []
    assert seen == [1]  # ran before transaction() returned, and saw the committed row

    async def roll_back() -> None:
        async with db.transaction() as uow:
            uow.session.add(
                OutboxMessage(event_id="2", event_type="t", topic="x", key="k", value=b"v")
            )
            uow.after_commit("count", count)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await roll_back()
    assert seen == [1]


async def test_a_failure_after_commit_is_logged_not_raised(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(_database: Database) -> None:
        raise RuntimeError("boom")

    async with db.transaction() as uow:
        uow.session.add(OutboxMessage(event_id="1", event_type="t", topic="x", key="k", value=b"v"))
        uow.after_commit("fail", fail)
    async with db.read() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 1
    assert "work after commit fail failed" in caplog.text


@pytest.mark.db_independent
@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2023, 1, 28, 9, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2023, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 24, 2, 30, 15, 123456, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
        None,
    ],
)
def test_sqlite_timestamps_are_bound_as_the_decorator_and_sqlites_datetime_bind_them(
    value: dt.datetime | None,
) -> None:
    # UTCDateTime converts a value for SQLite in one step; the text must stay what the
    # decorator's conversion followed by SQLite's DATETIME type stores.
    dialect = sqlite.dialect()
    typ = UTCDateTime().dialect_impl(dialect)
    assert isinstance(typ, UTCDateTime)
    one_step = typ.bind_processor(dialect)
    two_steps = TypeDecorator[dt.datetime].bind_processor(typ, dialect)
    assert one_step is not None
    assert two_steps is not None
    assert one_step(value) == two_steps(value)
    with pytest.raises(ValueError, match="naive datetime"):
        one_step(dt.datetime(2023, 1, 28))  # noqa: DTZ001 - the point of the test


async def synchronous_of(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one())


@pytest.mark.db_independent
async def test_sqlite_keeps_every_commit_across_a_power_loss_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PRAGMA synchronous: 1 = NORMAL (the WAL synced at checkpoints only), 2 = FULL (at commit).
    monkeypatch.delenv("SANPI_SQLITE_SYNCHRONOUS", raising=False)
    settings = RegistrySettings(data_dir=tmp_path, kafka_enabled=False)
    assert settings.sqlite_synchronous == "FULL", "the production default"
    runtime = Runtime(
        ServiceSpec(settings=settings, title="t", description="t", routers=[], migrations=None)
    )
    try:
        assert await synchronous_of(runtime.db) == 2
    finally:
        await runtime.db.dispose()
    plain = Database(f"sqlite+aiosqlite:///{tmp_path}/plain.db")
    fast = Database(f"sqlite+aiosqlite:///{tmp_path}/fast.db", sqlite_synchronous="NORMAL")
    try:
        assert await synchronous_of(plain) == 2
        assert await synchronous_of(fast) == 1
    finally:
        await plain.dispose()
        await fast.dispose()
    # The tests and the bench opt in, for every service at once.
    monkeypatch.setenv("SANPI_SQLITE_SYNCHRONOUS", "NORMAL")
    assert RegistrySettings(data_dir=tmp_path).sqlite_synchronous == "NORMAL"
    monkeypatch.setenv("SANPI_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValidationError, match="sqlite_synchronous"):
        RegistrySettings(data_dir=tmp_path)
