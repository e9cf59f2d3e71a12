"""Opaque cursors for list endpoints: `?limit=&cursor=` in, `{"items", "next_cursor"}` out."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, or_, true

from sanpi.kit.errors import FieldProblem, InvalidInput
from sanpi.kit.messages import template

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

FOREIGN_CURSOR = template(
    "list.foreign_cursor",
    zh="cursor 不是本接口返回的翻页位置，请从第一页重新读取",
    en="cursor is not one this API returned",
)
MALFORMED_CURSOR = template("list.malformed_cursor", zh="无法识别的翻页位置", en="malformed cursor")


def bad_cursor() -> InvalidInput:
    """The 422 of a cursor this API did not make (every list answers it alike)."""
    return InvalidInput(FOREIGN_CURSOR(), errors=[FieldProblem("cursor", MALFORMED_CURSOR())])


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    """Encodes the sort key of the last item returned."""
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Decodes a cursor from `encode_cursor`, or raises a 422 problem naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc
    if not isinstance(value, dict):
        raise bad_cursor()
    return value


# --- keyset pagination on (created_at, id), the default order of every list -------------------

CreatedKey = tuple[dt.datetime, str]


def key_after(cursor: str | None, name: str, parse: Callable[[str], K]) -> tuple[K, str] | None:
    """The (key, id) position a cursor points after, its key under `name` read by `parse`; None
    for the first page. A cursor made for another order has no such key: 422 naming `cursor`."""
    if not cursor:
        return None
    position = decode_cursor(cursor)
    try:
        return parse(str(position[name])), str(position["id"])
    except (KeyError, ValueError) as exc:
        raise bad_cursor() from exc


def created_key_after(cursor: str | None) -> CreatedKey | None:
    """The (created_at, id) position a cursor points after, None for the first page."""
    return key_after(cursor, "t", dt.datetime.fromisoformat)


def after_created(created_at: Any, row_id: Any, after: CreatedKey | None) -> ColumnElement[bool]:
    """The SQL condition "strictly after the cursor" in (created_at, id) order."""
    if after is None:
        return true()
    at, last_id = after
    return or_(created_at > at, and_(created_at == at, row_id > last_id))


def page_by_created(
    rows: Sequence[R], limit: int, key: Callable[[R], CreatedKey]
) -> tuple[list[R], str | None]:
    """Splits `limit + 1` fetched rows into the page and the cursor of the next one."""
    if len(rows) <= limit:
        return list(rows), None
    created_at, last_id = key(rows[limit - 1])
    return list(rows[:limit]), encode_cursor({"t": created_at.isoformat(), "id": last_id})
