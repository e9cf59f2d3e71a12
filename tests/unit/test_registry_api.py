"""The registry's HTTP contract in-process (no broker): errors as problem+json, outbox rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from sanpi.kit import OutboxMessage, Role
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings
from tests.support.apps import auth, serve_in_process

VALID = {
    "name": "艾格莱德汽车传感及控制器研发生产基地",
    "park": "双桥",
    "total_investment": 120_000,
    "planned_start_date": "2023-04-01",
    "planned_production_date": "2024-10-01",
}


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(RegistrySettings(data_dir=tmp_path, kafka_enabled=False))
    async with serve_in_process(app) as client:
        client.headers.update(auth(Role.ADMIN))
        yield client


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


async def test_create_then_get(registry: httpx.AsyncClient) -> None:
    created = await registry.post("/v1/projects", json=VALID)
    assert created.status_code == 201
    body = created.json()
    assert body["stage"] == "SIGNED"
    assert body["total_investment_yi"] == 12.0
    assert created.headers["location"] == f"/v1/projects/{body['id']}"
    fetched = await registry.get(f"/v1/projects/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_registration_writes_its_event_to_the_outbox_in_the_same_transaction(
    registry: httpx.AsyncClient,
) -> None:
    created = (await registry.post("/v1/projects", json=VALID)).json()
    runtime = registry._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.read() as session:
        rows = list((await session.exec(select(OutboxMessage))).all())
    assert len(rows) == 1
    assert rows[0].topic == "sanpi.projects"
    assert rows[0].key == created["id"]
    event = json.loads(rows[0].value)
    assert event["type"] == "sanpi.project.registered.v1"
    assert event["data"]["name"] == VALID["name"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_investment": -5}, "total_investment"),
        ({"total_investment": 0}, "total_investment"),
        ({"total_investment": 10**12}, "total_investment"),
        ({"total_investment": "很多"}, "total_investment"),
        ({"planned_production_date": "2022-01-01"}, "planned_production_date"),
        ({"planned_start_date": "tomorrow"}, "planned_start_date"),
        ({"name": ""}, "name"),
        ({"initial_stage": "IN_PRODUCTION"}, "initial_stage"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_fields_are_named(
    registry: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    response = await registry.post("/v1/projects", json={**VALID, **change})
    assert response.status_code == 422
    body = problem(response)
    assert field in [e["field"] for e in body["errors"]]


async def test_missing_field_is_named(registry: httpx.AsyncClient) -> None:
    body = {"name": "x", "park": "梧桐"}
    response = await registry.post("/v1/projects", json=body)
    assert response.status_code == 422
    assert {"field": "total_investment", "reason": "必须填写"} in problem(response)["errors"]
    english = await registry.post("/v1/projects", json=body, headers={"Accept-Language": "en"})
    assert {"field": "total_investment", "reason": "field required"} in problem(english)["errors"]


async def test_pydantics_own_errors_read_in_chinese_unless_english_is_asked_for(
    registry: httpx.AsyncClient,
) -> None:
    """Not only the catalogued validators: a wrong type, a bound, an unknown field, a query
    parameter are explained in Chinese (the generic 422s once read in English only)."""
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"total_investment": "很多"}, "total_investment", '应为整数万元，收到 "很多"'),
        ({"surprise": 1}, "surprise", "不认识的字段"),
        ({"name": "x" * 300}, "name", "最多 200 个字符，收到 300 个"),
    ]
    for change, field, reason in cases:
        response = await registry.post("/v1/projects", json={**VALID, **change})
        assert response.status_code == 422, change
        found = {e["field"]: e["reason"] for e in problem(response)["errors"]}
        assert found.get(field) == reason, found
        english = await registry.post(
            "/v1/projects", json={**VALID, **change}, headers={"Accept-Language": "en"}
        )
        assert not any("\u4e00" <= c <= "\u9fff" for c in english.text), english.text
    listed = await registry.get("/v1/projects", params={"limit": "many"})
    assert listed.status_code == 422
    assert problem(listed)["errors"] == [
        {"field": "query.limit", "reason": '应为整数，收到 "many"'}
    ]


async def test_unknown_park_is_named(registry: httpx.AsyncClient) -> None:
    response = await registry.post("/v1/projects", json={**VALID, "park": "火星"})
    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {"field": "park", "reason": "没有这个园区：应为 梧桐, 双桥, 石佛, 枫杨 之一"}
    ]


async def test_malformed_json_is_a_400_problem(registry: httpx.AsyncClient) -> None:
    response = await registry.post(
        "/v1/projects", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert problem(response)["title"] == "Malformed JSON"


async def test_unknown_project_and_unknown_route_are_404_problems(
    registry: httpx.AsyncClient,
) -> None:
    assert problem(await registry.get("/v1/projects/does-not-exist"))["status"] == 404
    assert problem(await registry.get("/v1/nothing-here"))["status"] == 404


async def test_without_token_401_and_viewer_cannot_write(registry: httpx.AsyncClient) -> None:
    anonymous = await registry.get("/v1/projects", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert problem(anonymous)["detail"] == "缺少访问令牌（Bearer token）"
    in_english = await registry.get(
        "/v1/projects", headers={"Authorization": "", "Accept-Language": "en"}
    )
    assert problem(in_english)["detail"] == "missing bearer token"
    viewer = await registry.post("/v1/projects", json=VALID, headers=auth(Role.VIEWER))
    assert viewer.status_code == 403


async def test_operator_writes_only_in_its_parks(registry: httpx.AsyncClient) -> None:
    own = await registry.post(
        "/v1/projects", json=VALID, headers=auth(Role.OPERATOR, parks=("双桥",))
    )
    assert own.status_code == 201
    other = await registry.post(
        "/v1/projects", json=VALID, headers=auth(Role.OPERATOR, parks=("梧桐",))
    )
    assert other.status_code == 403


async def test_pagination_walks_every_project_once(registry: httpx.AsyncClient) -> None:
    ids = [
        (await registry.post("/v1/projects", json={**VALID, "name": f"项目{i}"})).json()["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await registry.get("/v1/projects", params=params)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_bad_cursor_and_limit_are_named(registry: httpx.AsyncClient) -> None:
    bad_cursor = await registry.get("/v1/projects", params={"cursor": "!!"})
    assert bad_cursor.status_code == 422
    assert problem(bad_cursor)["errors"] == [{"field": "cursor", "reason": "无法识别的翻页位置"}]
    bad_limit = await registry.get("/v1/projects", params={"limit": 0})
    assert bad_limit.status_code == 422
    assert problem(bad_limit)["errors"][0]["field"] == "query.limit"


async def test_health_and_metrics(registry: httpx.AsyncClient) -> None:
    assert (await registry.get("/healthz")).json()["status"] == "ok"
    ready = await registry.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}
    await registry.get("/v1/projects/abc")
    metrics = (await registry.get("/metrics")).text
    assert (
        'sanpi_http_requests_total{method="GET",route="/v1/projects/{project_id}",status="404"}'
        in metrics
    )


async def test_a_retried_create_with_the_same_key_returns_the_first_answer(
    registry: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "import-2023-03-row-7"}
    first = await registry.post("/v1/projects", json=VALID, headers=headers)
    again = await registry.post("/v1/projects", json=VALID, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    listed = (await registry.get("/v1/projects")).json()["items"]
    assert len(listed) == 1, "one project, not two"


async def test_the_same_key_with_another_body_is_refused(registry: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    assert (await registry.post("/v1/projects", json=VALID, headers=headers)).status_code == 201
    other = await registry.post(
        "/v1/projects", json={**VALID, "name": "另一个项目"}, headers=headers
    )
    assert other.status_code == 422
    assert problem(other)["errors"] == [
        {"field": "header.Idempotency-Key", "reason": "已用于另一份请求内容"}
    ]


async def test_keys_are_per_caller(registry: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "same-key"}
    mine = await registry.post("/v1/projects", json=VALID, headers=headers)
    theirs = await registry.post(
        "/v1/projects", json=VALID, headers={**headers, **auth(Role.ADMIN, subject="someone-else")}
    )
    assert mine.json()["id"] != theirs.json()["id"]


async def test_the_app_runs_on_the_database_of_this_test_run(
    registry: httpx.AsyncClient, database_url: str
) -> None:
    # Guards the SANPI_TEST_DB=postgres mode: in-process apps must really use the test's database.
    runtime = registry._transport.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.db.url.split("://")[0] == database_url.split("://")[0]
    if database_url.startswith("postgresql"):
        assert runtime.db.url == database_url


async def test_an_oversized_body_is_a_413_problem(registry: httpx.AsyncClient) -> None:
    huge = {**VALID, "name": "x", "construction_content": "很" * 600_000}
    response = await registry.post("/v1/projects", json=huge)
    assert response.status_code == 413
    assert problem(response)["status"] == 413


async def test_an_oversized_chunked_body_is_a_413_problem_too(registry: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 100_000

    response = await registry.post(
        "/v1/projects", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "exceeds" in problem(response)["detail"]
