"""Request body size limits, answered as problem+json 413 whether or not Content-Length is sent;
and the ASGI helpers other request guards share (replaying a read body, answering a problem)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from sanpi.kit.errors import PROBLEM_JSON, FieldProblem

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimitMiddleware:
    """Refuses bodies above `default` bytes, or above the limit of the first matching path pattern
    (e.g. a bulk import route allows more). Chunked bodies are counted as they arrive."""

    def __init__(
        self, app: ASGIApp, *, default: int, overrides: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.default = default
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.search(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, limit)
            return
        # Read the whole body first (never more than `limit` + one chunk), then replay it: FastAPI
        # turns any error raised while it reads a body into a 400, so the limit must act before.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay_body([], message, receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(chunks, None, receive), send)


def replay_body(
    chunks: list[bytes], pending: MutableMapping[str, Any] | None, receive: Receive
) -> Receive:
    """A receive() that first yields the buffered body (or the message already read), then the
    connection's own messages (so a disconnect is still seen by streaming responses)."""
    first: MutableMapping[str, Any] = pending or {
        "type": "http.request",
        "body": b"".join(chunks),
        "more_body": False,
    }
    delivered = False

    async def replayed() -> MutableMapping[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return first
        return await receive()

    return replayed


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    await send_problem(
        scope,
        send,
        status=413,
        slug="body-too-large",
        title="Request body too large",
        detail=f"the request body exceeds {limit} bytes",
    )


async def send_problem(
    scope: Scope,
    send: Send,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldProblem] = (),
) -> None:
    """Answers a problem+json from middleware, before any route ran."""
    problem: dict[str, Any] = {
        "type": f"urn:sanpi:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
    }
    if errors:
        problem["errors"] = [e.as_dict() for e in errors]
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
