"""The one ASGI layer in front of every sanpi app's routes: security headers, CORS, the body
limit, the log context, the NUL guard and the HTTP metrics of a request, in that order.

They were six middleware classes, each a layer of the stack: each wrapped `send` or `receive` in
a closure of its own, two read the body and replayed it, three parsed the headers again. One
layer (pure ASGI, no BaseHTTPMiddleware) does the same in one pass over the headers, reads the
body once and replays it once. The order of effects is the old stack's, outermost first:

1. security headers on every answer that does not set them itself (an error answered here, a
   CORS preflight too);
2. CORS for the configured origins only (none: no CORS at all), by Starlette's CORSMiddleware;
3. the body limit: a body above its route's limit is a 413 whether or not Content-Length says so
   (chunked bodies are counted as they arrive), before anything parses it;
4. the log context: the trace id of the request's `traceparent` (or, traced, of the trace the
   request began) and the project its path names;
5. the NUL guard: U+0000 in the path, the query or a JSON body is a 422 naming the field
   (PostgreSQL cannot store it in text; the request would otherwise end in a 500);
6. the HTTP metrics: requests counted and timed by route template. The answers of 2, 3 and 5
   come before the routes and are not counted, as before.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import MutableMapping, Sequence
from typing import Any

from starlette.middleware.cors import CORSMiddleware

from sanpi.kit import tracing
from sanpi.kit.errors import FieldProblem
from sanpi.kit.limits import ASGIApp, Receive, Scope, Send, replay_body, send_problem
from sanpi.kit.logs import request_log_context
from sanpi.kit.metrics import observe_request
from sanpi.kit.nul import REASON, nul_in_json, nul_in_query
from sanpi.kit.security import (
    CORS_EXPOSED_HEADERS,
    CORS_REQUEST_HEADERS,
    DEFAULT_CSP,
    security_headers,
)

# Where the layer notes in the scope when the request reached the routes: its metrics start there.
_STARTED = "sanpi.started"


class EdgeMiddleware:
    """Installed once by create_service_app (`app.add_middleware(EdgeMiddleware, ...)`).

    `max_body_bytes` is the default body limit; `body_limits` are (path pattern, limit) pairs,
    the first matching one wins (e.g. a bulk import route allows more)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_limits: Sequence[tuple[str, int]] = (),
        cors_origins: Sequence[str] = (),
        csp: str = DEFAULT_CSP,
    ) -> None:
        self.app = app
        self.default = max_body_bytes
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in body_limits]
        self.headers = [
            (name.lower().encode(), value.encode()) for name, value in security_headers(csp).items()
        ]
        self.guarded: ASGIApp = self._guarded
        if cors_origins:
            # Bearer tokens, not cookies: no credentials mode, so no origin can ride a session.
            self.guarded = CORSMiddleware(
                self._guarded,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
                allow_credentials=False,
                max_age=600,
            )

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.search(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_secured(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                present = {name.lower() for name, _ in headers}
                message["headers"] = [
                    *headers,
                    *((n, v) for n, v in self.headers if n not in present),
                ]
            await send(message)

        try:
            await self.guarded(scope, receive, send_secured)
        finally:
            started = scope.get(_STARTED)
            if started is not None:
                observe_request(scope, status, time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        declared = content_type = traceparent = None
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
            elif name == b"traceparent" and traceparent is None:
                traceparent = value
        limit = self.limit_for(path)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        # Read the whole body first (never more than `limit` + one chunk), then replay it: FastAPI
        # turns any error raised while it reads a body into a 400, so the limit must act before.
        chunks: list[bytes] = []
        received = 0
        pending: MutableMapping[str, Any] | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending = message  # a disconnect: the route sees it as it would have
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _too_large(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if traceparent is None and tracing.ENABLED:
            # Traced, a request without the header is a trace of its own: the logs name it.
            traceparent = tracing.current_traceparent()
        with request_log_context(path, traceparent):
            field = _nul_field(path, scope.get("query_string", b""), content_type, body)
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
            scope[_STARTED] = time.perf_counter()
            await self.app(scope, replay_body([body], pending, receive), send)


def _nul_field(path: str, query: bytes, content_type: bytes | None, body: bytes) -> str | None:
    """The field holding U+0000, or None. Multipart bodies (sheet uploads) are left alone: a
    binary .xlsx holds NUL bytes; its XML cells cannot hold U+0000, and the CSV reader refuses
    NUL bytes itself."""
    if "\x00" in path:
        return "path"
    field = nul_in_query(query)
    if field is not None or content_type is None or b"json" not in content_type:
        return field
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    try:
        return nul_in_json(json.loads(body))
    except ValueError:
        return None  # not JSON: the route answers 400 malformed-json


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await send_problem(
        scope,
        send,
        status=413,
        slug="body-too-large",
        title="Request body too large",
        detail=f"the request body exceeds {limit} bytes",
    )
