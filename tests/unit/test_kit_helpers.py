"""Small kit helpers: ETag/If-Match, the clock, and the public surface of the libraries."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

import pytest
import sqlalchemy as sa
import sqlmodel
from sqlmodel.ext.asyncio.session import AsyncSession

import sanpi.events
import sanpi.kit
from sanpi.kit import (
    KIT_TABLES,
    Conflict,
    Database,
    FixedClock,
    InvalidInput,
    PreconditionFailed,
    UnitOfWork,
    check_version,
    check_versions,
    etag,
    parse_if_match,
    today,
)
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.messages import Bilingual
from sanpi.kit.named_rows import named_rows
from sanpi.kit.prefetch import Prefetched
from sanpi.kit.unit_of_work import insert_pending, session_of, unit_of


def test_if_match_names_a_version() -> None:
    assert etag(3) == '"3"'
    assert parse_if_match('"3"') == 3
    assert parse_if_match('W/"3"') == 3
    assert parse_if_match("*") is None
    assert parse_if_match(None) is None
    with pytest.raises(InvalidInput):
        parse_if_match('"three"')


def test_a_stale_version_is_a_412_naming_what_changed() -> None:
    what = Bilingual(zh="订阅", en="subscription")
    check_version(if_match='"4"', current=4, what=what)
    check_version(if_match=None, current=4, what=what)
    with pytest.raises(PreconditionFailed, match="version 5, not 4"):
        check_version(if_match='"4"', current=5, what=what)
    named = _refused(if_match='"4"', current=5, what=what)
    assert named.detail_in("zh") == (
        "订阅已被他人修改：当前是第 5 版，不是第 4 版；请重新读取后再提交"
    )
    assert named.detail_in("en") == (
        "the subscription is at version 5, not 4; fetch it again and retry"
    )


def _refused(**check: Any) -> PreconditionFailed:
    with pytest.raises(PreconditionFailed) as found:
        check_version(**check)
    return found.value


def test_a_stale_body_version_is_a_409_and_if_match_a_412() -> None:
    what = Bilingual(zh="交办事项", en="assigned issue")
    check_versions(if_match=None, version=None, current=5, what=what)
    check_versions(if_match='"5"', version=5, current=5, what=what)
    with pytest.raises(Conflict, match="assigned issue is at version 5, not 4") as stale:
        check_versions(if_match=None, version=4, current=5, what=what)
    assert stale.value.extra == {"current_version": 5}
    assert stale.value.detail_in("zh") == (
        "交办事项已被他人修改：当前是第 5 版，不是第 4 版；请重新读取后再提交"
    )
    with pytest.raises(PreconditionFailed):
        check_versions(if_match='"4"', version=5, current=5, what=what)


def test_campaign_days_are_shanghai_days() -> None:
    # 2023-01-27 17:00 UTC is already the 7th period's day (2023-01-28) in Zhengzhou.
    clock = FixedClock(dt.datetime(2023, 1, 27, 17, 0, tzinfo=dt.UTC))
    assert today(clock) == dt.date(2023, 1, 28)
    clock.advance(dt.timedelta(days=1))
    assert today(clock) == dt.date(2023, 1, 29)
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(dt.datetime(2023, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("module", [sanpi.events, sanpi.kit])
def test_public_surface_is_sorted_and_real(module: object) -> None:
    exported = list(module.__all__)  # type: ignore[attr-defined]
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    for name in exported:
        assert hasattr(module, name), name


def test_prefetched_rows_answer_kept_keys_only_and_keep_what_the_batch_adds() -> None:
    session = UnitOfWork(cast(AsyncSession, SimpleNamespace(info={})), event_source="/test")
    memory: Prefetched[dict[str, str]] = Prefetched("test")
    assert memory.rows(session, "p1") is None, "nothing prefetched: ask the database"
    found = [{"id": "p1", "v": "a"}, {"id": "p1", "v": "b"}]
    memory.keep(session, ["p1", "p2"], found, lambda row: row["id"])
    assert memory.rows(session, "p1") == found
    assert memory.rows(session, "p2") == [], "prefetched and not found: known to be absent"
    assert memory.rows(session, "p3") is None, "not in the batch: ask the database"
    new = {"id": "p2", "v": "c"}
    memory.add(session, "p2", new)
    memory.add(session, "p2", new)  # saved twice, kept once
    memory.add(session, "p3", {"id": "p3", "v": "d"})  # not prefetched: not kept
    assert memory.rows(session, "p2") == [new]
    assert memory.rows(session, "p3") is None


def test_named_rows_read_by_attribute_and_index_like_rows() -> None:
    engine = sa.create_engine("sqlite://")
    statement = sa.select(sa.literal(7).label("n"), sa.literal("p1").label("project_id"))
    with engine.connect() as connection:
        rows = named_rows(connection.execute(statement))
        again = named_rows(connection.execute(statement))
    assert [(r.n, r.project_id) for r in rows] == [(7, "p1")]
    assert rows[0] == (7, "p1")
    assert rows[0]._asdict() == {"n": 7, "project_id": "p1"}
    # Plain tuples, not Rows: a Row's attributes cost ~14× an index.
    assert not isinstance(rows[0], sa.Row)
    assert type(again[0]) is type(rows[0])  # one class per set of columns


async def test_a_read_serving_writes_sees_the_units_pending_rows_and_refuses_its_bare_session(
    database_url: str,
) -> None:
    # Before, a read found the unit of work through its session (kit/legacy.py): handed the
    # session it read past nothing, but nothing in its signature said so. Now it is handed a
    # Reading and a write's bare session is refused.
    db = Database(database_url)
    await db.create_all(list(KIT_TABLES))
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    insert = sa.insert(table)
    count = sqlmodel.select(sa.func.count()).select_from(table)
    row = {
        "consumer": "c",
        "source": "s",
        "event_id": "e",
        "event_type": "t",
        "processed_at": dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
    }
    try:
        async with db.transaction() as uow:
            uow.insert_at_commit(insert, row)
            assert (await session_of(uow).exec(count)).one() == 0, "pending until asked"
            await insert_pending(uow, insert)
            assert (await session_of(uow).exec(count)).one() == 1
            assert unit_of(uow) is uow
            with pytest.raises(TypeError, match="pass the unit of work"):
                session_of(uow.session)
            with pytest.raises(TypeError):
                await insert_pending(uow.session, insert)
        async with db.read() as session:
            assert session_of(session) is session
            assert unit_of(session) is None
            await insert_pending(session, insert)  # nothing pending in a read
            assert (await session.exec(count)).one() == 1
    finally:
        await db.dispose()
