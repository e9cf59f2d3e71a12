"""The database layer on SQLite: aware timestamps, reads beside a writer, rollback on error."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from sanpi.kit import KIT_TABLES, Database, OutboxMessage
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
