"""The SDK: problem+json becomes ApiError; a 503 (nothing written) and a 429 (the write limit,
checked before anything happens) are retried after Retry-After."""

from __future__ import annotations

import httpx
import pytest

from sanpi.client.sdk.base import RETRIES_ON_429, RETRIES_ON_503, ApiError, Http


def http_answering(*responses: httpx.Response) -> tuple[Http, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    http = Http("token", timeout=5)
    http.client = httpx.Client(transport=httpx.MockTransport(handler), headers=http.client.headers)
    return http, seen


UNAVAILABLE = httpx.Response(
    503, headers={"retry-after": "0"}, json={"title": "Database unavailable"}
)


def test_a_503_is_retried_after_retry_after_then_succeeds() -> None:
    http, seen = http_answering(UNAVAILABLE, UNAVAILABLE, httpx.Response(201, json={"id": "p-1"}))
    assert http.call("POST", "http://registry/v1/projects", json={"name": "x"}) == {"id": "p-1"}
    assert len(seen) == 3
    assert all(r.content == b'{"name":"x"}' for r in seen)


def test_retries_are_bounded_and_end_in_an_api_error() -> None:
    http, seen = http_answering(*[UNAVAILABLE] * (RETRIES_ON_503 + 1))
    with pytest.raises(ApiError) as raised:
        http.call("GET", "http://registry/v1/projects")
    assert raised.value.status == 503
    assert len(seen) == RETRIES_ON_503 + 1


def test_a_problem_is_an_api_error_naming_the_fields() -> None:
    problem = {
        "status": 422,
        "detail": "park: unknown park",
        "errors": [{"field": "park", "reason": "unknown"}],
    }
    http, _ = http_answering(httpx.Response(422, json=problem))
    with pytest.raises(ApiError, match="park: unknown park") as raised:
        http.call("POST", "http://registry/v1/projects", json={})
    assert raised.value.problem["errors"][0]["field"] == "park"


LIMITED = httpx.Response(429, headers={"retry-after": "0"}, json={"title": "Too many requests"})


def test_a_429_is_retried_after_retry_after_until_the_limit_lets_it_through() -> None:
    http, seen = http_answering(
        *[LIMITED] * 5, UNAVAILABLE, LIMITED, httpx.Response(201, json={"id": "p-2"})
    )
    assert http.call("POST", "http://registry/v1/projects", json={"name": "y"}) == {"id": "p-2"}
    assert len(seen) == 8
    http, seen = http_answering(*[LIMITED] * (RETRIES_ON_429 + 1))
    with pytest.raises(ApiError) as raised:
        http.call("POST", "http://registry/v1/projects", json={"name": "y"})
    assert raised.value.status == 429
    assert len(seen) == RETRIES_ON_429 + 1
