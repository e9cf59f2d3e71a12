"""Statements that select rows of many ids: by an IN list, or by the range of a span of ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement


class Span(tuple[str, ...]):
    """Ids that are every id of their table from the first to the last, in the database's
    order (a chunk of a list read with ORDER BY id): a statement may select their rows with
    `BETWEEN first AND last` instead of an IN list of them. SQLAlchemy renders an IN list of
    400 ids again for each execution (~1 CPU-ms a statement): a full rule evaluation at
    province scale ran ~400 of them. Rows of other tables whose id falls in the range but is
    not among the ids (none in a consistent database) come along: a reader that must not see
    them keeps those of `ids` only."""

    __slots__ = ()

    @classmethod
    def chunks(cls, ordered: Sequence[str], size: int) -> list[Span]:
        """`ordered` (every id, in the database's order) in spans of `size`."""
        return [cls(ordered[start : start + size]) for start in range(0, len(ordered), size)]


# A column, or an ORM attribute of one (sqlmodel's col() types it Mapped).
Among = Callable[[Any], ColumnElement[bool]]
S = TypeVar("S", bound=sa.Executable)


def _listed(column: Any) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.in_(sa.bindparam("ids", expanding=True))
    return condition


def _spanned(column: Any) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.between(sa.bindparam("first"), sa.bindparam("last"))
    return condition


@dataclass(frozen=True)
class ByIds(Generic[S]):
    """One statement built twice, once per way of naming the ids (`among`): built once, at
    import, and run with the parameters `params` gives."""

    listed: S
    spanned: S

    @classmethod
    def of(cls, build: Callable[[Among], S]) -> ByIds[S]:
        """`build(among)` makes the statement; `among(column)` is its condition on the ids."""
        return cls(build(_listed), build(_spanned))

    def params(self, ids: Sequence[str], **more: Any) -> tuple[S, dict[str, Any]]:
        """The statement for `ids` and its parameters (an empty span selects nothing)."""
        if isinstance(ids, Span) and ids:
            return self.spanned, {"first": ids[0], "last": ids[-1], **more}
        return self.listed, {"ids": list(ids), **more}


def of_ids(rows: Iterable[Any], ids: Sequence[str], field: str = "project_id") -> list[Any]:
    """The rows whose `field` is among `ids`: what a span's statement read beyond its ids
    left out (a no-op for a list)."""
    rows = list(rows)
    if not isinstance(ids, Span):
        return rows
    wanted = frozenset(ids)
    return [row for row in rows if getattr(row, field) in wanted]
