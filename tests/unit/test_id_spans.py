"""kit.id_spans: a statement selects the same rows of a span of ids by range as by an IN list;
kit.named_rows.driver_named_rows: the rows named_rows gives, from the driver's rows."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sanpi.kit.db import Database
from sanpi.kit.id_spans import ByIds, Span, of_ids
from sanpi.kit.named_rows import driver_named_rows, named_rows

META = sa.MetaData()
ITEMS = sa.Table(
    "items",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.String),
    sa.Column("n", sa.Integer),
)
PROJECTS = [f"p{i:03d}" for i in range(10)]
_BY_PROJECT = ByIds.of(
    lambda among: (
        sa.select(ITEMS.c.project_id, ITEMS.c.n)
        .where(among(ITEMS.c.project_id), ITEMS.c.n >= sa.bindparam("least"))
        .order_by(ITEMS.c.id)
    )
)


@pytest.fixture
def connection() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    META.create_all(engine)
    with engine.begin() as c:
        rows = [{"project_id": p, "n": n} for p in PROJECTS for n in range(3)]
        # A row of a project that is not among the listed ones, inside their range.
        rows.append({"project_id": "p004x", "n": 9})
        c.execute(sa.insert(ITEMS), rows)
        yield c


def _run(c: sa.Connection, ids: Any) -> list[Any]:
    statement, params = _BY_PROJECT.params(ids, least=1)
    return list(c.execute(statement, params))


def test_a_span_selects_by_range_and_a_list_by_in(connection: sa.Connection) -> None:
    span = Span.chunks(PROJECTS, 4)[1]  # p004 … p007
    assert list(span) == PROJECTS[4:8]
    statement, params = _BY_PROJECT.params(span, least=1)
    assert statement is _BY_PROJECT.spanned
    assert params == {"first": "p004", "last": "p007", "least": 1}
    statement, params = _BY_PROJECT.params(list(span), least=1)
    assert statement is _BY_PROJECT.listed
    assert params == {"ids": PROJECTS[4:8], "least": 1}


def test_the_same_rows_either_way_once_the_strays_are_left_out(connection: sa.Connection) -> None:
    span = Span.chunks(PROJECTS, 4)[1]
    by_list = _run(connection, list(span))
    by_range = _run(connection, span)
    # The range also reads the stray project's row; of_ids leaves it out.
    assert ("p004x", 9) in by_range
    assert of_ids(by_range, span) == by_list
    assert [(r.project_id, r.n) for r in by_list] == [(p, n) for p in PROJECTS[4:8] for n in (1, 2)]
    # A list is not filtered (its statement read only its ids).
    assert of_ids(by_list, list(span)) == by_list


def test_chunks_cover_every_id_once_and_an_empty_span_selects_nothing(
    connection: sa.Connection,
) -> None:
    chunks = Span.chunks(PROJECTS, 4)
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [p for c in chunks for p in c] == PROJECTS
    assert _run(connection, Span()) == []


class Colour(enum.StrEnum):
    RED = "RED"
    BLUE = "BLUE"


TYPED = sa.Table(
    "typed_rows",
    sa.MetaData(),
    sa.Column("id", sa.String(8), primary_key=True),
    sa.Column("day", sa.Date),
    sa.Column("colour", sa.Enum(Colour, native_enum=False, length=8)),
    sa.Column("periods", sa.JSON),
    sa.Column("flag", sa.Boolean),
    sa.Column("n", sa.Integer),
)


async def test_driver_rows_hold_the_values_named_rows_holds(database_url: str) -> None:
    """Dates, enums, JSON and booleans converted as SQLAlchemy converts them, on either
    database, with and without a value."""
    db = Database(database_url)
    statement = sa.select(TYPED).order_by(TYPED.c.id)
    try:
        async with db.engine.begin() as c:
            await c.run_sync(TYPED.metadata.create_all)
            await c.execute(
                sa.insert(TYPED),
                [
                    {
                        "id": "a",
                        "day": dt.date(2024, 2, 29),
                        "colour": Colour.RED,
                        "periods": [5, 8],
                        "flag": True,
                        "n": 3,
                    },
                    {
                        "id": "b",
                        "day": None,
                        "colour": None,
                        "periods": None,
                        "flag": None,
                        "n": None,
                    },
                ],
            )
            expected = named_rows(await c.execute(statement))
            found = await driver_named_rows(c, statement, {})
    finally:
        await db.dispose()
    assert found == expected
    first = found[0]
    assert first.day == dt.date(2024, 2, 29)
    assert first.colour is Colour.RED
    assert first.periods == [5, 8]
    assert first.flag is True
    assert type(found[0]) is type(expected[0])


async def test_driver_rows_refuse_a_name_the_enum_lacks(database_url: str) -> None:
    """An enum column is read by a bare lookup of its names: a name written behind the model's
    back still fails as SQLAlchemy's converter fails (LookupError); no rows are none."""
    db = Database(database_url)
    statement = sa.select(TYPED).order_by(TYPED.c.id)
    try:
        async with db.engine.begin() as c:
            await c.run_sync(TYPED.metadata.create_all)
            assert await driver_named_rows(c, statement, {}) == []
            await c.execute(sa.text("INSERT INTO typed_rows (id, colour) VALUES ('x', 'PURPLE')"))
            with pytest.raises(LookupError):
                named_rows(await c.execute(statement))
            with pytest.raises(LookupError):
                await driver_named_rows(c, statement, {})
    finally:
        await db.dispose()
