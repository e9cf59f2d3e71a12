"""Core result rows as named tuples: attribute access at a tuple's speed."""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection

# A named tuple of a select's columns, read by attribute like a Row (typed loosely, as a Row is).
NamedRow = Any


@functools.lru_cache(maxsize=64)
def _row_class(fields: tuple[str, ...]) -> Any:
    # collections.namedtuple, not typing.NamedTuple: the columns are known at run time only.
    return collections.namedtuple("NamedRow", fields)


def row_of(fields: tuple[str, ...], values: Iterable[Any]) -> NamedRow:
    """A row of these columns from its values: a named row sent to another process as a
    plain tuple (its class is made at run time, so pickle cannot name it) and made again."""
    return _row_class(fields)._make(values)


def named_rows(result: Result[Any]) -> list[NamedRow]:
    """The result's rows as named tuples of its columns. A Row's attribute goes through
    __getattr__, ~0.5 µs in SQLAlchemy 2.1 (14× an index), and a full rule evaluation reads a
    project's row and its milestones' a dozen times each: ~0.5 of its CPU-s at province scale."""
    make = _row_class(tuple(result.keys()))._make
    return [make(row) for row in result]


_Processor = Callable[[Any], Any]


@functools.lru_cache(maxsize=64)
def _processors(statement: Any, dialect: Any) -> tuple[tuple[int, _Processor], ...]:
    """The result processors of the statement's columns on `dialect` that change a value (a
    date from SQLite's text, an enum from its name, JSON from its text), by column index."""
    found = []
    for index, column in enumerate(statement.selected_columns):
        impl = column.type.dialect_impl(dialect)
        process = _enum_lookup(impl, dialect) or impl.result_processor(dialect, None)
        if process is not None:
            found.append((index, process))
    return tuple(found)


def _enum_lookup(impl: Any, dialect: Any) -> _Processor | None:
    """An Enum column's processor as the bare lookup it wraps: the name (or value) to its
    member, None to None, an unknown name a KeyError (a LookupError, as the wrapper raises).
    The wrapper cost ~1 µs a value, the lookup ~0.05: a full rule evaluation at province scale
    converts ~300k stages, kinds and statuses. None where the string type converts first."""
    if (
        not isinstance(impl, sa.Enum)
        or type(impl).result_processor is not sa.Enum.result_processor
        or super(sa.Enum, impl).result_processor(dialect, None) is not None
    ):
        return None
    lookup: dict[Any, Any] = impl._object_lookup  # what its processor reads
    return lookup.__getitem__


async def driver_named_rows(
    connection: AsyncConnection,
    statement: sa.Select[*tuple[Any, ...]],
    params: dict[str, Any],
) -> list[NamedRow]:
    """The statement's rows as named_rows gives them, built from the driver's rows: the column
    types' processors run on the columns that have one, and no Row object is made (a full rule
    evaluation at province scale reads ~100k project and milestone rows: ~0.2 CPU-s less)."""
    result = await connection.execute(statement, params)
    try:
        raw = result.cursor.fetchall()
        make = _row_class(tuple(result.keys()))._make
    finally:
        result.close()
    processors = _processors(statement, connection.dialect)
    if not processors or not raw:
        return list(map(make, raw))
    # Column by column: map() calls each converter without a Python loop around it, and the
    # rows are made again by map() (a row at a time, the loop cost ~2 µs a row).
    columns: list[Iterable[Any]] = list(zip(*raw, strict=True))
    for index, process in processors:
        columns[index] = map(process, columns[index])
    return list(map(make, zip(*columns, strict=True)))
