"""Core bulk writes the repositories share: many rows changed by primary key in few statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlmodel.ext.asyncio.session import AsyncSession


async def update_by_id(
    session: AsyncSession, table: Table, changes: Mapping[str, Mapping[str, Any]]
) -> None:
    """Sets columns of rows by id: one executemany per set of columns changed (executemany
    needs the same keys in every row)."""
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row_id, values in changes.items():
        by_columns.setdefault(frozenset(values), []).append({"b_id": row_id, **values})
    stmt = update(table).where(table.c.id == bindparam("b_id"))
    for params in by_columns.values():
        await session.exec(stmt, params=params)
