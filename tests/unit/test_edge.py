"""The one ASGI layer in front of the routes (kit/edge.py): its effects and their order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from prometheus_client import REGISTRY

from sanpi.kit.edge import EdgeMiddleware
from sanpi.kit.logs import current_context
from sanpi.kit.security import SECURITY_HEADERS


def probe_app(**edge: Any) -> tuple[FastAPI, list[dict[str, Any]]]:
    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/edge/projects/{project_id}/echo")
    async def echo(project_id: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        seen.append({"project": project_id, "body": body, "context": dict(current_context())})
        return {"bytes": len(body)}

    app.add_middleware(EdgeMiddleware, **edge)
    return app, seen


def counted(status: str) -> float:
    value = REGISTRY.get_sample_value(
        "sanpi_http_requests_total",
        {"method": "POST", "route": "/edge/projects/{project_id}/echo", "status": status},
    )
    return value or 0.0


async def test_a_body_is_read_once_and_replayed_whole_and_the_request_is_counted() -> None:
    app, seen = probe_app(max_body_bytes=100)
    before = counted("200")
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"a": ', b'"x"}'):
            yield part

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sanpi.test"
    ) as client:
        answer = await client.post(
            "/edge/projects/p-1/echo",
            content=chunks(),
            headers={
                "content-type": "application/json",
                "traceparent": f"00-{trace}-00f067aa0ba902b7-01",
            },
        )
    assert answer.status_code == 200
    assert answer.json() == {"bytes": 10}
    assert seen == [
        {
            "project": "p-1",
            "body": b'{"a": "x"}',
            "context": {"trace_id": trace, "project_id": "p-1"},
        }
    ]
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value
    assert counted("200") == before + 1


async def test_refusals_come_before_the_routes_with_the_headers_and_are_not_counted() -> None:
    app, seen = probe_app(max_body_bytes=16, body_limits=[("/p-big/", 1000)])
    before = {status: counted(status) for status in ("413", "422")}
    json_type = {"content-type": "application/json"}

    async def chunked(size: int) -> AsyncIterator[bytes]:
        for _ in range(size):
            yield b"x"

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sanpi.test"
    ) as client:
        declared = await client.post("/edge/projects/p-1/echo", content=b"x" * 17)
        # No Content-Length: counted as the chunks arrive.
        streamed = await client.post("/edge/projects/p-1/echo", content=chunked(17))
        nul_query = await client.post("/edge/projects/p-1/echo?q=%00")
        nul_body = await client.post(
            "/edge/projects/p-1/echo", content=b'{"a":"\\u0000"}', headers=json_type
        )
        # Both wrong: the limit acts first, before anything parses the body.
        both = await client.post(
            "/edge/projects/p-1/echo", content=b'{"a":"\\u0000xxxx"}', headers=json_type
        )
        # A route's own limit.
        big = await client.post("/edge/projects/p-big/echo", content=b"x" * 17)
    assert [a.status_code for a in (declared, streamed, nul_query, nul_body, both, big)] == [
        413, 413, 422, 422, 413, 200
    ]  # fmt: skip
    assert declared.json()["type"] == "urn:sanpi:problem:body-too-large"
    assert nul_query.json()["errors"][0]["field"] == "query.q"
    assert nul_body.json()["errors"][0]["field"] == "a"
    for answer in (declared, streamed, nul_query, nul_body, big):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value
    assert [row["project"] for row in seen] == ["p-big"]
    assert {status: counted(status) for status in ("413", "422")} == before
