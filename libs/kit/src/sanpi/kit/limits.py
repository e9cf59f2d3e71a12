"""The ASGI helpers of the request guards (kit/edge.py): replaying a body already read, answering
a problem+json before any route ran."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from sanpi.kit.errors import PROBLEM_JSON, FieldProblem

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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
