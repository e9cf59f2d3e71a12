"""Periods (期), listings on their 签约/开工/投产 lists, and annual targets, with their events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sanpi.events import BatchType, PeriodStatus
from sanpi.kit import Role
from sanpi.registry.listings.rules import ListingRefused, check_listing
from tests.support.apps import auth
from tests.support.registry import (
    create,
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


async def test_a_period_opens_is_held_and_closes_with_an_event_each(
    registry: httpx.AsyncClient,
) -> None:
    period = await open_period(registry, 7, "2023-01-28")
    assert (period["quarter"], period["status"]) == ("2023Q1", "OPEN_FOR_DECLARATION")
    assert (await registry.post("/v1/periods/7/hold")).json()["status"] == "HELD"
    assert (await registry.post("/v1/periods/7/close")).json()["status"] == "CLOSED"
    assert (await registry.post("/v1/periods/7/hold")).status_code == 409
    events = [(e["type"], e["subject"], e["data"]["status"]) for e in await outbox_events(registry)]
    assert events == [
        ("sanpi.period.opened.v1", "period-7", "OPEN_FOR_DECLARATION"),
        ("sanpi.period.held.v1", "period-7", "HELD"),
        ("sanpi.period.closed.v1", "period-7", "CLOSED"),
    ]
    assert [p["number"] for p in (await registry.get("/v1/periods")).json()["items"]] == [7]


async def test_period_rules(registry: httpx.AsyncClient) -> None:
    await open_period(registry, 7, "2023-01-28")
    duplicate = await registry.post("/v1/periods", json={"number": 7, "event_date": "2023-01-29"})
    assert duplicate.status_code == 409
    wrong_quarter = await registry.post(
        "/v1/periods", json={"number": 8, "event_date": "2023-05-08", "quarter": "2023Q1"}
    )
    assert fields_of(wrong_quarter) == ["quarter"]
    out_of_order = await registry.post(
        "/v1/periods", json={"number": 8, "event_date": "2022-10-08"}
    )
    assert problem(out_of_order)["errors"] == [
        {"field": "event_date", "reason": "应晚于第 7 期的 2023-01-28"}
    ]
    operator = await registry.post(
        "/v1/periods",
        json={"number": 9, "event_date": "2023-08-15"},
        headers=auth(Role.OPERATOR, parks=("梧桐",)),
    )
    assert operator.status_code == 403
    assert (await registry.get("/v1/periods/99")).status_code == 404


async def test_a_listing_snapshots_amounts_and_emits_listed(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    await open_period(registry, 7, "2023-01-28")
    response = await list_on(registry, project["id"], 7, "SIGN")
    assert response.status_code == 201, response.text
    listing = response.json()
    assert listing["listed_total_investment"] == 120_000
    assert listing["listed_annual_plan"] == 40_000
    [event] = await outbox_events(registry, "project.listed")
    assert event["subject"] == project["id"]
    assert event["data"] == {
        "project_id": project["id"],
        "period": 7,
        "batch": "SIGN",
        "event_date": "2023-01-28",
        "listed_total_investment": 120_000,
        "listed_annual_plan": 40_000,
        "listed_by": "tester",
    }
    on_list = await registry.get("/v1/listings", params={"period": 7, "batch": "SIGN"})
    assert [x["project_id"] for x in on_list.json()["items"]] == [project["id"]]


async def test_production_comes_from_an_earlier_start_listing(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    for number, day in ((7, "2023-01-28"), (8, "2023-04-03"), (9, "2023-07-03")):
        await open_period(registry, number, day)
    refused = await list_on(registry, project["id"], 9, "PRODUCE")
    assert refused.status_code == 409
    assert problem(refused)["detail"] == "投产清单需要更早的开工清单，或项目已开工"
    assert (await list_on(registry, project["id"], 7, "START")).status_code == 201
    produced = await list_on(registry, project["id"], 9, "PRODUCE")
    assert produced.status_code == 201
    assert produced.json()["source_period"] == 7
    events = await outbox_events(registry, "project.listed")
    assert events[-1]["data"]["source_period"] == 7


async def test_production_of_a_started_project_without_start_listing(
    registry: httpx.AsyncClient,
) -> None:
    signed = await create(registry)
    direct = await create(
        registry, name="郑州机械研究所高端装备制造产业园", initial_stage="UNDER_CONSTRUCTION"
    )
    await open_period(registry, 9, "2023-07-03")
    await stage_changed(registry, signed["id"], "UNDER_CONSTRUCTION", "2023-04-02")
    for project in (signed, direct):
        listed = await list_on(registry, project["id"], 9, "PRODUCE")
        assert listed.status_code == 201, listed.text
        assert listed.json()["source_period"] is None


async def test_listing_refusals(registry: httpx.AsyncClient) -> None:
    project = await create(registry)
    await open_period(registry, 7, "2023-01-28")
    await open_period(registry, 8, "2023-04-03")
    unknown = await list_on(registry, project["id"], 99, "SIGN")
    assert unknown.status_code == 422
    assert fields_of(unknown) == ["period"]
    assert (await list_on(registry, project["id"], 8, "SIGN")).status_code == 201
    twice = await list_on(registry, project["id"], 7, "SIGN")
    assert twice.status_code == 409
    assert problem(twice)["detail"] == "项目已在第 8 期的签约清单上"
    english = await registry.post(
        f"/v1/projects/{project['id']}/listings",
        json={"batch": "SIGN", "period": 7},
        headers={"Accept-Language": "en"},
    )
    assert problem(english)["detail"] == "the project is already on period 8's SIGN list"
    started_before_signed = await list_on(registry, project["id"], 7, "START")
    assert started_before_signed.status_code == 409
    await registry.post("/v1/periods/7/close")
    other = await create(registry, name="另一个项目")
    closed = await list_on(registry, other["id"], 7, "SIGN")
    assert problem(closed)["detail"] == "第 7 期已关闭，清单不能再变"
    await registry.post(
        f"/v1/projects/{other['id']}/cancel", json={"reason_code": "DUPLICATE", "reason": "重复"}
    )
    cancelled = await list_on(registry, other["id"], 8, "SIGN")
    assert problem(cancelled)["detail"] == "项目已取消，不能再列入清单"
    assert (await list_on(registry, "no-such-project", 8, "SIGN")).status_code == 404
    foreign = await registry.post(
        f"/v1/projects/{project['id']}/listings",
        json={"period": 8, "batch": "START"},
        headers=auth(Role.OPERATOR, parks=("梧桐",)),
    )
    assert foreign.status_code == 403


@pytest.mark.parametrize(
    ("batch", "period", "existing", "started", "expected"),
    [
        (BatchType.SIGN, 7, {}, False, None),
        (BatchType.START, 7, {BatchType.SIGN: 7}, False, None),
        (BatchType.PRODUCE, 9, {BatchType.START: 8}, False, 8),
        (BatchType.PRODUCE, 9, {}, True, None),
        (BatchType.PRODUCE, 8, {BatchType.START: 8}, True, "before"),
        (BatchType.START, 6, {BatchType.SIGN: 7}, False, "no later than"),
        (BatchType.SIGN, 9, {BatchType.PRODUCE: 8}, True, "no later than"),
        (BatchType.PRODUCE, 9, {BatchType.SIGN: 7}, False, "earlier START listing"),
    ],
)
def test_listing_rule_table(
    batch: BatchType,
    period: int,
    existing: dict[BatchType, int],
    started: bool,
    expected: int | str | None,
) -> None:
    def decide() -> int | None:
        return check_listing(
            batch=batch,
            period=period,
            period_status=PeriodStatus.HELD,
            existing=existing,
            started=started,
            cancelled=False,
        )

    if isinstance(expected, str):
        with pytest.raises(ListingRefused, match=expected):
            decide()
    else:
        assert decide() == expected


SEED_004 = {
    "SIGN_AMOUNT": 4_000_000,
    "NEW_START_INVESTMENT": 2_900_000,
    "MFG_SIGN_AMOUNT": 1_800_000,
    "MFG_SIGN_COUNT": 12,
}


async def test_targets_of_seed_004_and_target_set_events(registry: httpx.AsyncClient) -> None:
    for kind, value in SEED_004.items():
        response = await registry.post(
            "/v1/targets", json={"year": 2023, "scope": "郑州高新区", "kind": kind, "value": value}
        )
        assert response.status_code == 201, response.text
    again = await registry.post(
        "/v1/targets",
        json={"year": 2023, "scope": "郑州高新区", "kind": "SIGN_AMOUNT", "value": 4_100_000},
    )
    assert again.status_code == 200
    listed = (await registry.get("/v1/targets", params={"year": 2023})).json()["items"]
    assert {t["kind"]: t["value"] for t in listed} == {**SEED_004, "SIGN_AMOUNT": 4_100_000}
    events = await outbox_events(registry, "target.set")
    assert len(events) == 5
    assert events[0]["subject"] == "target-2023-郑州高新区"
    assert events[-1]["data"] == {
        "year": 2023,
        "scope": "郑州高新区",
        "kind": "SIGN_AMOUNT",
        "value": 4_100_000,
        "set_by": "tester",
    }


async def test_target_scopes_and_roles(registry: httpx.AsyncClient) -> None:
    body = {"year": 2023, "kind": "MFG_SIGN_COUNT", "value": 3}
    unknown = await registry.post("/v1/targets", json={**body, "scope": "火星"})
    assert fields_of(unknown) == ["scope"]
    operator = auth(Role.OPERATOR, parks=("石佛",))
    district = await registry.post(
        "/v1/targets", json={**body, "scope": "郑州高新区"}, headers=operator
    )
    assert district.status_code == 403
    own = await registry.post("/v1/targets", json={**body, "scope": "石佛"}, headers=operator)
    assert own.status_code == 201
    negative = await registry.post("/v1/targets", json={**body, "scope": "石佛", "value": -1})
    assert fields_of(negative) == ["value"]


async def test_parks_come_from_settings(tmp_path: Path) -> None:
    async with registry_client(tmp_path, parks=["航空港区", "经开区"], district="郑州市") as client:
        assert (await client.get("/v1/parks")).json() == {
            "district": "郑州市",
            "parks": ["航空港区", "经开区"],
        }
        refused = await client.post(
            "/v1/projects", json={"name": "x", "park": "梧桐", "total_investment": 1}
        )
        assert problem(refused)["errors"] == [
            {"field": "park", "reason": "没有这个园区：应为 航空港区, 经开区 之一"}
        ]
