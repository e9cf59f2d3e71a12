"""The database layer: aware timestamps, reads beside a writer, rollback, work after commit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from sanpi.kit import KIT_TABLES, Database, OutboxMessage, after_commit
from sanpi.kit.inbox import InboxEntry


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.create_all(list(KIT_TABLES))
    yield database
    await database.dispose()


async def test_timestamps_come_back_timezone_aware_in_utc(db: Database) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    written = dt.datetime(2023, 1, 28, 9, 30, tzinfo=shanghai)
    async with db.transaction() as session:
        session.add(
            InboxEntry(consumer="c", source="s", event_id="e", event_type="t", processed_at=written)
        )
    async with db.read() as session:
        row = (await session.exec(select(InboxEntry))).one()
    assert row.processed_at == written
    assert row.processed_at.tzinfo == dt.UTC


async def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as session:
            session.add(
                InboxEntry(
                    consumer="c",
                    source="s",
                    event_id="e",
                    event_type="t",
                    processed_at=dt.datetime(2023, 1, 28),  # noqa: DTZ001 - the point of the test
                )
            )


async def test_a_read_does_not_wait_for_an_open_write_transaction(db: Database) -> None:
    async with db.transaction() as writer:
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
        async with asyncio.timeout(5), database.transaction() as session:
            seen.append(len((await session.exec(select(OutboxMessage))).all()))

    async with db.transaction() as session:
        session.add(OutboxMessage(event_id="1", event_type="t", topic="x", key="k", value=b"v"))
        after_commit(session, "count", count)
        after_commit(session, "count", count)  # once per name
        assert seen == []
    assert seen == [1]  # ran before transaction() returned, and saw the committed row

    async def roll_back() -> None:
        async with db.transaction() as session:
            session.add(OutboxMessage(event_id="2", event_type="t", topic="x", key="k", value=b"v"))
            after_commit(session, "count", count)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await roll_back()
    assert seen == [1]


async def test_a_failure_after_commit_is_logged_not_raised(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(_database: Database) -> None:
        raise RuntimeError("boom")

    async with db.transaction() as session:
        session.add(OutboxMessage(event_id="1", event_type="t", topic="x", key="k", value=b"v"))
        after_commit(session, "fail", fail)
    async with db.read() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 1
    assert "work after commit fail failed" in caplog.text
