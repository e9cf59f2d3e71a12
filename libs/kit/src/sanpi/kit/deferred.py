"""Rows of one table INSERTed in one statement, as the unit of work writes its deferred rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Insert, Table
from sqlalchemy.exc import StatementError
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_rows(
    session: AsyncSession, statement: Insert, rows: Sequence[dict[str, Any]]
) -> None:
    """Inserts `rows` (each with the same keys) by `statement` on the session's connection: the
    rows a unit of work queued with insert_at_commit (UnitOfWork.insert_pending)."""
    connection = await session.connection()
    plan = _plan(statement, connection.dialect, tuple(rows[0]))
    if plan is None:
        await connection.execute(statement, list(rows))
        return
    sql, binds = plan
    # The parameters as SQLAlchemy's executemany would give them to the driver, but in one pass
    # per row: its construction of each row's parameters cost ~10 µs a row, as much as the
    # values' own conversion, for the ~10,000 timeline and outbox rows of a first evaluation.
    try:
        params = [
            tuple([row[name] if process is None else process(row[name]) for name, process in binds])
            for row in rows
        ]
    except Exception as exc:  # as SQLAlchemy reports a value its type refuses
        raise StatementError(f"({type(exc).__name__}) {exc}", sql, None, exc) from exc
    await connection.exec_driver_sql(sql, params)


Process = Callable[[Any], Any]
Binds = list[tuple[str, Process | None]]
_PLANS: dict[tuple[Insert, Dialect, tuple[str, ...]], tuple[str, Binds] | None] = {}


def _plan(statement: Insert, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, Binds] | None:
    """The SQL of `statement` for rows of `keys`, and each parameter's name and conversion (its
    column type's bind processor), in the driver's order; None where SQLAlchemy's executemany
    stays: on PostgreSQL (its driver takes numbered parameters and casts; the cost was measured
    on SQLite), or where the statement computes parameters of its own (column defaults of a key
    the rows lack). Public API only: the compiled statement's ExpandedState gives the SQL and
    the parameters' order, the table's columns their types."""
    found = _PLANS.get((statement, dialect, keys), ...)
    if found is not ...:
        return found
    found = None
    if dialect.name == "sqlite":
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        expanded = compiled.construct_expanded_state(dict.fromkeys(keys))
        order = expanded.positiontup
        columns = statement.table.c if isinstance(statement.table, Table) else None
        # Parameters other than the rows' own keys (a column default computed in Python, an
        # escaped name) are SQLAlchemy's to fill in.
        if order is not None and columns is not None and sorted(order) == sorted(keys):
            binds: Binds = []
            for name in order:
                type_ = columns[name].type.dialect_impl(dialect)
                binds.append((name, type_.bind_processor(dialect)))
            found = (expanded.statement, binds)
    _PLANS[statement, dialect, keys] = found
    return found
