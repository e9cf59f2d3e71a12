"""Projects in the registry: every field, validation, PATCH concurrency, cancel, filters, sorts,
cursors and the stage projection, in-process (events read from the outbox)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from sanpi.kit import CAMPAIGN_TZ, Role
from tests.support.apps import auth
from tests.support.registry import (
    FULL_PROJECT,
    create,
    deliver,
    fields_of,
    list_on,
    open_period,
    outbox_events,
    problem,
    registry_client,
    stage_changed,
)


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        yield client


async def test_every_field_round_trips_with_yi_for_display(registry: httpx.AsyncClient) -> None:
    body = await create(registry)
    for key, value in FULL_PROJECT.items():
        assert body[key] == value, key
    assert body["total_investment_yi"] == 12.0
    assert body["contract_amount_yi"] == 11.0
    assert body["annual_plan_investment_yi"] == 4.0
    assert body["initial_stage"] == body["stage"] == "SIGNED"
    assert body["version"] == 1
    assert (await registry.get(f"/v1/projects/{body['id']}")).json() == body


async def test_registered_event_carries_the_master_data(registry: httpx.AsyncClient) -> None:
    body = await create(registry)
    [event] = await outbox_events(registry, "project.registered")
    data = event["data"]
    assert event["subject"] == body["id"]
    assert data["enterprise"] == FULL_PROJECT["enterprise"]
    for key in (
        "name",
        "park",
        "category",
        "chain_tag",
        "is_manufacturing",
        "funding_origin",
        "total_investment",
        "contract_amount",
        "annual_plan_investment",
        "construction_content",
        "expected_annual_output",
        "expected_jobs",
        "responsible_unit",
        "responsible_person",
        "sponsor_leader",
        "national_project_code",
        "signed_date",
        "planned_fulfill_date",
        "planned_start_date",
        "planned_completion_date",
        "planned_production_date",
        "planned_effective_date",
    ):
        assert data[key] == FULL_PROJECT[key], key
    assert data["stage"] == "SIGNED"
    assert data["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_investment": -5}, "total_investment"),
        ({"total_investment": 10**9}, "total_investment"),
        ({"contract_amount": -1}, "contract_amount"),
        ({"contract_amount": 130_000}, "contract_amount"),
        ({"annual_plan_investment": 200_000}, "annual_plan_investment"),
        ({"expected_jobs": 5_000_000}, "expected_jobs"),
        ({"park": "火星"}, "park"),
        ({"chain_tag": "BLOCKCHAIN"}, "chain_tag"),
        ({"category": "先进制造业"}, "category"),
        ({"planned_start_date": "2022-12-01"}, "planned_start_date"),
        ({"planned_production_date": "2023-01-01"}, "planned_production_date"),
        ({"planned_effective_date": "2024-01-01"}, "planned_effective_date"),
        ({"started_date": "2023-02-01"}, "started_date"),
        ({"enterprise": {"name": "某公司", "uscc": "123"}}, "enterprise.uscc"),
        ({"enterprise": {"uscc": "91410100MA9FXXXX1Y"}}, "enterprise.name"),
        ({"national_project_code": "ABC"}, "national_project_code"),
        ({"initial_stage": "IN_PRODUCTION"}, "initial_stage"),
    ],
)
async def test_invalid_values_are_named(
    registry: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    response = await registry.post("/v1/projects", json={**FULL_PROJECT, **change})
    assert response.status_code == 422, response.text
    assert field in fields_of(response)


async def test_contract_above_total_says_both_amounts(registry: httpx.AsyncClient) -> None:
    response = await registry.post(
        "/v1/projects", json={**FULL_PROJECT, "contract_amount": 130_000}
    )
    assert problem(response)["errors"] == [
        {"field": "contract_amount", "reason": "签约额 130000 万元大于总投资 120000 万元"}
    ]


async def test_a_direct_start_keeps_its_declared_start_day(registry: httpx.AsyncClient) -> None:
    body = await create(
        registry,
        initial_stage="UNDER_CONSTRUCTION",
        started_date="2023-03-01",
        signed_date=None,
        funding_origin="LOCAL",
    )
    assert body["stage"] == "UNDER_CONSTRUCTION"
    assert body["started_date"] == "2023-03-01"
    # The milestone service dates the stage from the event: the start day goes with it.
    [event] = await outbox_events(registry, "project.registered")
    assert (event["data"]["stage"], event["data"]["started_date"]) == (
        "UNDER_CONSTRUCTION",
        "2023-03-01",
    )


def shanghai_day(instant: str) -> str:
    return dt.datetime.fromisoformat(instant).astimezone(CAMPAIGN_TZ).date().isoformat()


async def test_an_undeclared_direct_start_sends_the_day_the_registry_counts(
    registry: httpx.AsyncClient,
) -> None:
    # Without a declared start day the indicators count the day of registration (Shanghai): the
    # event names that day, so the milestone service does not date the stage from the plan.
    body = await create(
        registry,
        initial_stage="UNDER_CONSTRUCTION",
        signed_date=None,
        funding_origin="LOCAL",
    )
    assert body["started_date"] is None  # the row keeps what was declared
    [event] = await outbox_events(registry, "project.registered")
    assert event["data"]["started_date"] == shanghai_day(body["created_at"])
    # A signed project has not started: the field stays out of its event.
    await create(registry)
    assert "started_date" not in (await outbox_events(registry, "project.registered"))[1]["data"]


# --- PATCH and its concurrency -------------------------------------------------------------------


async def test_patch_with_if_match_changes_bumps_version_and_emits_updated(
    registry: httpx.AsyncClient,
) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    etag = (await registry.get(url)).headers["etag"]
    response = await registry.patch(
        url,
        json={"total_investment": 150_000, "responsible_person": "赵敏"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert response.json()["total_investment_yi"] == 15.0
    [event] = await outbox_events(registry, "project.updated")
    assert event["data"]["changed"] == ["responsible_person", "total_investment"]
    assert event["data"]["version"] == 2
    assert event["data"]["total_investment"] == 150_000
    assert event["data"]["enterprise"]["name"] == FULL_PROJECT["enterprise"]["name"]
    assert event["data"]["updated_by"] == "tester"


async def test_stale_if_match_is_412_and_stale_body_version_is_409(
    registry: httpx.AsyncClient,
) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    first = await registry.patch(url, json={"sponsor_leader": "甲", "version": 1})
    assert first.status_code == 200
    stale_header = await registry.patch(
        url, json={"sponsor_leader": "乙"}, headers={"If-Match": '"1"'}
    )
    assert stale_header.status_code == 412
    assert problem(stale_header)["current_version"] == 2
    # Both say what changed: the project (one kit template, named by the registry).
    said = "项目已被他人修改：当前是第 2 版，不是第 1 版；请重新读取后再提交"
    assert problem(stale_header)["detail"] == said
    stale_body = await registry.patch(url, json={"sponsor_leader": "乙", "version": 1})
    assert stale_body.status_code == 409
    assert problem(stale_body)["current_version"] == 2
    assert problem(stale_body)["detail"] == said
    in_english = await registry.patch(
        url, json={"sponsor_leader": "乙"}, headers={"If-Match": '"1"', "Accept-Language": "en"}
    )
    assert problem(in_english)["detail"] == (
        "the project is at version 2, not 1; fetch it again and retry"
    )
    assert (await registry.get(url)).json()["sponsor_leader"] == "甲"
    assert len(await outbox_events(registry, "project.updated")) == 1


async def test_patch_without_a_precondition_is_428(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    response = await registry.patch(f"/v1/projects/{project['id']}", json={"sponsor_leader": "乙"})
    assert response.status_code == 428
    assert fields_of(response) == ["header.If-Match"]
    # Chinese unless English is asked for, never both.
    assert response.json()["detail"].startswith("请带上读到的 ETag（If-Match 请求头）")
    assert response.json()["errors"][0]["reason"] == "必须填写（或在请求体中给出 version）"
    english = await registry.patch(
        f"/v1/projects/{project['id']}",
        json={"sponsor_leader": "乙"},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["detail"].startswith("send If-Match with the ETag you read")
    star = await registry.patch(
        f"/v1/projects/{project['id']}", json={"sponsor_leader": "乙"}, headers={"If-Match": "*"}
    )
    assert star.status_code == 200


async def test_patch_checks_rules_on_the_merged_project(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    below = await registry.patch(url, json={"total_investment": 100_000, "version": 1})
    assert below.status_code == 422
    assert fields_of(below) == ["contract_amount"]
    cleared = await registry.patch(url, json={"name": None, "version": 1})
    assert fields_of(cleared) == ["name"]
    moved = await registry.patch(url, json={"park": "梧桐", "enterprise": None, "version": 1})
    assert moved.status_code == 200
    assert moved.json()["park"] == "梧桐"
    assert moved.json()["enterprise"] is None


async def test_patch_of_a_project_started_by_a_stage_change(registry: httpx.AsyncClient) -> None:
    # The start day the stage projection wrote is not input: editing other master data of a
    # signed project that has since started is allowed; declaring a start day still is not.
    project = await create(registry)
    await stage_changed(registry, project["id"], "UNDER_CONSTRUCTION", "2023-04-03")
    url = f"/v1/projects/{project['id']}"
    edited = await registry.patch(url, json={"expected_jobs": 900, "version": 1})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["expected_jobs"], edited.json()["started_date"]) == (900, "2023-04-03")
    declared = await registry.patch(url, json={"started_date": "2023-05-01", "version": 2})
    assert fields_of(declared) == ["started_date"]


async def test_patch_with_nothing_new_keeps_the_version(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    same = await registry.patch(
        f"/v1/projects/{project['id']}", json={"name": FULL_PROJECT["name"], "version": 1}
    )
    assert same.json()["version"] == 1
    assert await outbox_events(registry, "project.updated") == []


async def test_operator_patches_only_own_park_and_cannot_move_it_away(
    registry: httpx.AsyncClient,
) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    other = auth(Role.OPERATOR, parks=("梧桐",))
    assert (await registry.patch(url, json={"version": 1}, headers=other)).status_code == 403
    own = auth(Role.OPERATOR, parks=("双桥",))
    moving = await registry.patch(url, json={"park": "梧桐", "version": 1}, headers=own)
    assert moving.status_code == 403


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_emits_cancelled_freezes_and_refuses_twice(
    registry: httpx.AsyncClient,
) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    cancel = {"reason_code": "INVESTOR_FUNDING", "reason": "投资方资金链断裂"}
    response = await registry.post(f"{url}/cancel", json=cancel)
    assert response.status_code == 200, response.text
    assert response.json()["cancelled_on"] == "2023-06-30"
    assert response.json()["version"] == 2
    [event] = await outbox_events(registry, "project.cancelled")
    assert event["data"] == {
        "project_id": project["id"],
        "version": 2,
        "reason_code": "INVESTOR_FUNDING",
        "reason": "投资方资金链断裂",
        "effective_date": "2023-06-30",
        "cancelled_by": "tester",
    }
    again = await registry.post(f"{url}/cancel", json=cancel)
    assert again.status_code == 409
    frozen = await registry.patch(url, json={"sponsor_leader": "乙", "version": 2})
    assert frozen.status_code == 409
    bad = await registry.post(f"{url}/cancel", json={"reason_code": "BORED", "reason": ""})
    assert set(fields_of(bad)) == {"reason_code", "reason"}


# --- the stage projection ----------------------------------------------------------------------


async def test_stage_projection_follows_stage_changed_once(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    record = await stage_changed(registry, project["id"], "UNDER_CONSTRUCTION", "2023-04-02")
    body = (await registry.get(url)).json()
    assert body["stage"] == "UNDER_CONSTRUCTION"
    assert body["started_date"] == "2023-04-02"
    assert body["version"] == 1, "the stage is a projection, not master data"
    await stage_changed(
        registry, project["id"], "IN_PRODUCTION", "2024-09-01", from_stage="UNDER_CONSTRUCTION"
    )
    assert await deliver(registry, record) == "duplicate"
    body = (await registry.get(url)).json()
    assert body["stage"] == "IN_PRODUCTION"
    assert body["production_date"] == "2024-09-01"
    await stage_changed(
        registry,
        project["id"],
        "UNDER_CONSTRUCTION",
        "2024-09-05",
        from_stage="IN_PRODUCTION",
        reason="CORRECTION",
    )
    body = (await registry.get(url)).json()
    assert (body["stage"], body["production_date"]) == ("UNDER_CONSTRUCTION", None)
    await stage_changed(
        registry,
        project["id"],
        "SUSPENDED",
        "2024-10-01",
        from_stage="UNDER_CONSTRUCTION",
        reason="SUSPENDED",
    )
    await stage_changed(
        registry,
        project["id"],
        "UNDER_CONSTRUCTION",
        "2024-12-01",
        from_stage="SUSPENDED",
        reason="RESUMED",
    )
    assert (await registry.get(url)).json()["started_date"] == "2023-04-02"


def stale_count(event_type: str) -> float:
    return REGISTRY.get_sample_value("sanpi_events_stale_total", {"type": event_type}) or 0.0


STAGE_CHANGED = "sanpi.project.stage_changed.v1"


async def test_a_redriven_older_stage_change_never_moves_the_stage_back(
    registry: httpx.AsyncClient,
) -> None:
    # STARTED was dead-lettered (so never applied: the inbox cannot help), PRODUCING applied,
    # then STARTED is redriven.
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    started = await stage_changed(
        registry, project["id"], "UNDER_CONSTRUCTION", "2023-04-02", version=1, now=False
    )
    await stage_changed(
        registry,
        project["id"],
        "IN_PRODUCTION",
        "2024-09-01",
        from_stage="UNDER_CONSTRUCTION",
        version=2,
    )
    stale = stale_count(STAGE_CHANGED)
    assert await deliver(registry, started) == "processed"
    body = (await registry.get(url)).json()
    assert body["stage"] == "IN_PRODUCTION", "the redrive rolled the projection back"
    assert body["production_date"] == "2024-09-01"
    # What the late change knew that the projection lacked: the day construction started.
    assert body["started_date"] == "2023-04-02"
    assert stale_count(STAGE_CHANGED) == stale + 1


async def test_a_late_change_gives_no_day_to_a_stage_corrected_away(
    registry: httpx.AsyncClient,
) -> None:
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    produced = await stage_changed(
        registry,
        project["id"],
        "IN_PRODUCTION",
        "2024-09-01",
        from_stage="UNDER_CONSTRUCTION",
        version=2,
        now=False,
    )
    await stage_changed(registry, project["id"], "UNDER_CONSTRUCTION", "2023-04-02", version=1)
    await stage_changed(
        registry,
        project["id"],
        "UNDER_CONSTRUCTION",
        "2024-09-05",
        from_stage="IN_PRODUCTION",
        reason="CORRECTION",
        version=3,
    )
    await deliver(registry, produced)
    body = (await registry.get(url)).json()
    assert (body["stage"], body["production_date"]) == ("UNDER_CONSTRUCTION", None)


async def test_changes_without_a_version_apply_as_before_until_a_versioned_one_did(
    registry: httpx.AsyncClient,
) -> None:
    # Records published before stage_changed carried a version: applied in arrival order while
    # nothing versioned was applied, then older than anything versioned.
    project = await create(registry)
    url = f"/v1/projects/{project['id']}"
    await stage_changed(registry, project["id"], "UNDER_CONSTRUCTION", "2023-04-02")
    assert (await registry.get(url)).json()["stage"] == "UNDER_CONSTRUCTION"
    legacy = await stage_changed(
        registry,
        project["id"],
        "SUSPENDED",
        "2023-05-01",
        from_stage="UNDER_CONSTRUCTION",
        reason="SUSPENDED",
        now=False,
    )
    await stage_changed(
        registry,
        project["id"],
        "IN_PRODUCTION",
        "2024-09-01",
        from_stage="UNDER_CONSTRUCTION",
        version=5,
    )
    await deliver(registry, legacy)
    assert (await registry.get(url)).json()["stage"] == "IN_PRODUCTION"


# --- filters, sorting, cursors -------------------------------------------------------------------

PORTFOLIO: list[dict[str, Any]] = [
    {
        "name": "雄韬氢能产业园",
        "park": "梧桐",
        "chain_tag": "HYDROGEN_STORAGE",
        "total_investment": 500_000,
        "category": "ADVANCED_MANUFACTURING",
        "is_manufacturing": True,
        "enterprise": {"name": "深圳市雄韬电源科技股份有限公司"},
    },
    {
        "name": "京东方艺云区域总部",
        "park": "双桥",
        "chain_tag": "ELECTRONIC_INFORMATION",
        "total_investment": 150_000,
        "category": "MODERN_SERVICES",
        "is_manufacturing": False,
        "enterprise": {"name": "BOE Technology Group"},
    },
    {
        "name": "珠海艾派克微集成电路封测",
        "park": "石佛",
        "chain_tag": "ELECTRONIC_INFORMATION",
        "total_investment": 80_000,
        "category": "ADVANCED_MANUFACTURING",
        "is_manufacturing": True,
        "enterprise": {"name": "珠海艾派克微电子有限公司"},
        "national_project_code": "2023-410171-39-03-054321",
    },
    {
        "name": "清智机器人创新中心",
        "park": "枫杨",
        "chain_tag": "BRAIN_INSPIRED",
        "total_investment": 50_000,
        "category": "STRATEGIC_EMERGING",
        "is_manufacturing": False,
        "enterprise": {"name": "清华大学河北高端装备研究院"},
    },
]


@pytest.fixture
async def portfolio(registry: httpx.AsyncClient) -> dict[str, str]:
    ids = {}
    for p in PORTFOLIO:
        body = {**p, "planned_start_date": None} if p["name"].startswith("清智") else p
        ids[p["name"]] = (await registry.post("/v1/projects", json=body)).json()["id"]
    await open_period(registry, 7, "2023-01-28")
    await open_period(registry, 8, "2023-04-03")
    assert (await list_on(registry, ids["雄韬氢能产业园"], 7, "SIGN")).status_code == 201
    assert (await list_on(registry, ids["雄韬氢能产业园"], 8, "START")).status_code == 201
    assert (await list_on(registry, ids["京东方艺云区域总部"], 7, "SIGN")).status_code == 201
    await stage_changed(registry, ids["京东方艺云区域总部"], "UNDER_CONSTRUCTION", "2023-05-01")
    return ids


async def names(registry: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await registry.get("/v1/projects", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"park": "梧桐"}, ["雄韬氢能产业园"]),
        ({"stage": "UNDER_CONSTRUCTION"}, ["京东方艺云区域总部"]),
        ({"category": "ADVANCED_MANUFACTURING"}, ["雄韬氢能产业园", "珠海艾派克微集成电路封测"]),
        (
            {"chain_tag": "ELECTRONIC_INFORMATION"},
            ["京东方艺云区域总部", "珠海艾派克微集成电路封测"],
        ),
        ({"manufacturing": "true"}, ["雄韬氢能产业园", "珠海艾派克微集成电路封测"]),
        ({"manufacturing": "false"}, ["京东方艺云区域总部", "清智机器人创新中心"]),
        ({"period": 7}, ["雄韬氢能产业园", "京东方艺云区域总部"]),
        ({"period": 7, "batch": "START"}, []),
        ({"batch": "START"}, ["雄韬氢能产业园"]),
        (
            {"min_investment": 80_000, "max_investment": 150_000},
            ["京东方艺云区域总部", "珠海艾派克微集成电路封测"],
        ),
        ({"min_investment": 200_000}, ["雄韬氢能产业园"]),
        ({"q": "氢能"}, ["雄韬氢能产业园"]),
        ({"q": "boe"}, ["京东方艺云区域总部"]),
        ({"q": "艾派克微电子"}, ["珠海艾派克微集成电路封测"]),
        ({"q": "100%_"}, []),
        # 项目代码, whole or in part (the portal's search box).
        ({"q": "2023-410171-39-03-054321"}, ["珠海艾派克微集成电路封测"]),
        ({"q": "054321"}, ["珠海艾派克微集成电路封测"]),
        ({"park": "双桥", "period": 7, "q": "京东方"}, ["京东方艺云区域总部"]),
    ],
)
async def test_each_filter(
    registry: httpx.AsyncClient,
    portfolio: dict[str, str],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    assert await names(registry, **params) == expected


async def test_cancelled_can_be_left_out(
    registry: httpx.AsyncClient, portfolio: dict[str, str]
) -> None:
    await registry.post(
        f"/v1/projects/{portfolio['清智机器人创新中心']}/cancel",
        json={"reason_code": "OTHER", "reason": "重复录入"},
    )
    assert "清智机器人创新中心" not in await names(registry, include_cancelled="false")
    assert len(await names(registry)) == 4


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "total_investment",
            [
                "清智机器人创新中心",
                "珠海艾派克微集成电路封测",
                "京东方艺云区域总部",
                "雄韬氢能产业园",
            ],
        ),
        (
            "-total_investment",
            [
                "雄韬氢能产业园",
                "京东方艺云区域总部",
                "珠海艾派克微集成电路封测",
                "清智机器人创新中心",
            ],
        ),
        (
            "-created_at",
            [
                "清智机器人创新中心",
                "珠海艾派克微集成电路封测",
                "京东方艺云区域总部",
                "雄韬氢能产业园",
            ],
        ),
    ],
)
async def test_sorts(
    registry: httpx.AsyncClient, portfolio: dict[str, str], sort: str, expected: list[str]
) -> None:
    assert await names(registry, sort=sort) == expected


async def test_bad_filters_are_named(registry: httpx.AsyncClient) -> None:
    cases: dict[str, dict[str, str | int]] = {
        "min_investment": {"min_investment": 10, "max_investment": 5},
        "query.stage": {"stage": "DREAMING"},
        "query.sort": {"sort": "colour"},
        "query.manufacturing": {"manufacturing": "maybe"},
        "query.period": {"period": 0},
    }
    for field, params in cases.items():
        response = await registry.get("/v1/projects", params=params)
        assert response.status_code == 422, params
        assert any(field in f for f in fields_of(response)), (field, fields_of(response))


async def test_a_cursor_is_bound_to_its_sort(registry: httpx.AsyncClient) -> None:
    for i in range(3):
        await create(registry, name=f"项目{i}")
    page = (await registry.get("/v1/projects", params={"limit": 1, "sort": "name"})).json()
    other = await registry.get(
        "/v1/projects",
        params={"limit": 1, "sort": "-total_investment", "cursor": page["next_cursor"]},
    )
    assert other.status_code == 422
    assert problem(other)["errors"] == [{"field": "cursor", "reason": "属于排序 sort=name"}]


async def walk(registry: httpx.AsyncClient, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        response = await registry.get("/v1/projects", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


SORT_KEYS = {
    "created_at": lambda p: (p["created_at"], p["id"]),
    "name": lambda p: (p["name"], p["id"]),
    "total_investment": lambda p: (p["total_investment"], p["id"]),
    "planned_start_date": lambda p: (p["planned_start_date"] or "9999-12-31", p["id"]),
}


@pytest.mark.parametrize("sort", [*SORT_KEYS, *(f"-{s}" for s in SORT_KEYS)])
async def test_every_sort_pages_to_the_end_in_order_without_repeats(
    registry: httpx.AsyncClient, sort: str
) -> None:
    # Few distinct values, so that pages split inside runs of equal keys (the id tie-break).
    for i in range(23):
        await create(
            registry,
            name=f"项目{i % 4}",
            total_investment=100_000 + 10_000 * (i % 3),
            contract_amount=None,
            annual_plan_investment=None,
            planned_start_date=None if i % 5 == 0 else f"2023-0{4 + i % 2}-01",
            planned_completion_date=None,
            planned_production_date=None,
            planned_effective_date=None,
        )
    items = await walk(registry, 4, sort=sort)
    assert len({p["id"] for p in items}) == len(items) == 23
    key = SORT_KEYS[sort.lstrip("-")]
    assert items == sorted(items, key=key, reverse=sort.startswith("-"))
