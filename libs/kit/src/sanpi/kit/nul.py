"""Finds NUL characters in a query or a JSON body, for the NUL guard of kit/edge.py (a 422 naming
the field): PostgreSQL cannot store U+0000 in text, and the request would otherwise end in a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

REASON = "contains a NUL character (U+0000), which cannot be stored"


def nul_in_json(value: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string holding U+0000, or None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return where
            items.append((where, item))
    elif isinstance(value, list):
        items = [(f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value)]
    for where, item in items:
        found = nul_in_json(item, where)
        if found is not None:
            return found
    return None


def nul_in_query(query_string: bytes) -> str | None:
    """`query.<name>` of the first parameter whose name or value holds U+0000, or None."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name}"
    return None
