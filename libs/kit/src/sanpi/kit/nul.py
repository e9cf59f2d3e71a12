"""Refuses NUL characters in the path, the query and JSON bodies, as 422 naming the field:
PostgreSQL cannot store U+0000 in text, and the request would otherwise end in a 500."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from sanpi.kit.errors import FieldProblem
from sanpi.kit.limits import ASGIApp, Receive, Scope, Send, replay_body, send_problem

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


class NulGuardMiddleware:
    """Checks what the routes would read as text before they read it. Multipart bodies (sheet
    uploads) are left alone: a binary .xlsx holds NUL bytes; its XML cells cannot hold U+0000, and
    the CSV reader refuses NUL bytes itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = "path" if "\x00" in scope.get("path", "") else None
        field = field or nul_in_query(scope.get("query_string", b""))
        headers = dict(scope.get("headers") or [])
        if field is None and b"json" in headers.get(b"content-type", b""):
            body, pending = await _read_body(receive)
            if b"\\u0000" in body or b"\x00" in body:
                try:
                    field = nul_in_json(json.loads(body))
                except ValueError:
                    field = None  # not JSON: the route answers 400 malformed-json
            receive = replay_body([body], pending, receive)
        if field is not None:
            await send_problem(
                scope,
                send,
                status=422,
                slug="validation-error",
                title="Invalid input",
                detail=f"{field}: {REASON}",
                errors=[FieldProblem(field, REASON)],
            )
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, MutableMapping[str, Any] | None]:
    """The whole body (the body limit already bounded it), or what came instead of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None
