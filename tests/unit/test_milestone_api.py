"""The milestone service's HTTP contract in-process (no broker): lifecycle, milestones, progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from sanpi.events import ProjectUpdated, Stage
from sanpi.kit import CAMPAIGN_TZ, OutboxMessage, Outcome, Role
from sanpi.milestone.lifecycle.models import StageChange
from tests.support.apps import auth
from tests.support.milestone import FakeRecord, Milestones, milestone_service, operator
from tests.support.registry import create, registry_client

PHOTO = {"uri": "https://evidence.example/site.jpg", "taken_at": "2023-03-01"}


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path) as service:
        await service.register()
        yield service


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in problem(response, 422)["errors"]]


async def test_the_plan_is_built_from_the_registry_dates(svc: Milestones) -> None:
    plan = (await svc.client.get("/v1/projects/p1/milestones")).json()["items"]
    by_kind = {m["kind"]: m for m in plan}
    assert by_kind["STARTED"]["baseline_date"] == "2023-03-01"
    assert by_kind["IN_PRODUCTION"]["baseline_date"] == "2024-06-30"
    assert by_kind["SIGNED"]["actual_date"] == "2023-01-28"
    # The registry moves the planned start: a forecast, the baseline stays.
    update = ProjectUpdated(
        project_id="p1",
        version=2,
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=150_000,
        planned_start_date=dt.date(2023, 4, 15),
        planned_production_date=dt.date(2024, 6, 30),
        changed=["planned_start_date"],
        updated_by="reg-op",
    )
    await svc.feed(update)
    started = next(
        m
        for m in (await svc.client.get("/v1/projects/p1/milestones")).json()["items"]
        if m["kind"] == "STARTED"
    )
    assert (started["baseline_date"], started["forecast_date"]) == ("2023-03-01", "2023-04-15")
    replanned = await svc.events("sanpi.milestone.replanned")
    assert [e["data"]["replanned_by"] for e in replanned] == ["reg-op"]


async def test_a_project_registered_under_construction_is_dated_from_its_start_day(
    tmp_path: Path,
) -> None:
    # Started 2023-02-10, ahead of its planned 2023-03-01: the stage holds since the real day.
    started = {"stage": Stage.UNDER_CONSTRUCTION, "signed_date": None}
    async with milestone_service(tmp_path) as svc:
        await svc.register("early", **started, started_date=dt.date(2023, 2, 10))
        # An event written before registrations carried the start day: the planned one.
        await svc.register("older", **started)
        answer = await svc.client.get("/v1/project-summaries", params={"ids": ["early", "older"]})
        since = {item["project_id"]: item["stage_since"] for item in answer.json()["items"]}
        assert since == {"early": "2023-02-10", "older": "2023-03-01"}
        async with svc.runtime.db.read() as session:
            changes = (await session.exec(select(StageChange))).all()
        assert {(c.project_id, c.reason, c.effective_date) for c in changes} == {
            ("early", "REGISTERED", dt.date(2023, 2, 10)),
            ("older", "REGISTERED", dt.date(2023, 3, 1)),
        }


# Two services in one test: each its own database on PostgreSQL (one alembic_version table each).
@pytest.mark.usefixtures("service_databases")
async def test_a_direct_start_without_a_declared_day_is_dated_as_the_registry_counts_it(
    tmp_path: Path,
) -> None:
    # The registry counts such a project started on its day of registration (Shanghai); the
    # milestone service, fed the registry's own record, dated it from its planned start before
    # (FULL_PROJECT plans 2023-04-01).
    async with registry_client(tmp_path / "registry") as registry:
        body = await create(
            registry,
            initial_stage="UNDER_CONSTRUCTION",
            signed_date=None,
            funding_origin="LOCAL",
        )
        runtime = registry._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.read() as session:
            [row] = (await session.exec(select(OutboxMessage))).all()
    registered_on = dt.datetime.fromisoformat(body["created_at"]).astimezone(CAMPAIGN_TZ).date()
    async with milestone_service(tmp_path / "milestone") as svc:
        record = FakeRecord(row.value, row.key.encode())
        assert await svc.replay(record) is Outcome.PROCESSED
        answer = await svc.client.get("/v1/project-summaries", params={"ids": [body["id"]]})
        [summary] = answer.json()["items"]
        assert (summary["stage"], summary["stage_since"]) == (
            "UNDER_CONSTRUCTION",
            registered_on.isoformat(),
        )
        async with svc.runtime.db.read() as session:
            [change] = (await session.exec(select(StageChange))).all()
        assert (change.reason, change.effective_date) == ("REGISTERED", registered_on)


async def test_start_needs_dated_evidence_given_as_object_or_in_the_uri(svc: Milestones) -> None:
    undated = await svc.post(
        "p1/milestones",
        {"kind": "STARTED", "date": "2023-03-01", "evidence": ["https://x/site.jpg"]},
    )
    assert "注明日期的佐证材料" in problem(undated, 409)["detail"]
    future = await svc.post(
        "p1/milestones",
        {
            "kind": "STARTED",
            "date": "2023-03-01",
            "evidence": [{**PHOTO, "taken_at": "2099-01-01"}],
        },
    )
    assert fields(future) == ["evidence.0.taken_at"]
    ok = await svc.post(
        "p1/milestones",
        {"kind": "STARTED", "date": "2023-03-01", "evidence": ["https://x/a.jpg", PHOTO]},
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["stage"] == "UNDER_CONSTRUCTION"
    assert body["evidence"] == ["https://x/a.jpg", PHOTO["uri"]]
    assert [e["dated_on"] for e in body["evidence_detail"]] == [None, "2023-03-01"]
    changed = await svc.events("sanpi.project.stage_changed")
    assert [(e["data"]["to_stage"], e["data"]["reason"]) for e in changed] == [
        ("UNDER_CONSTRUCTION", "MILESTONE")
    ]
    also_in_uri = await svc.post(
        "p1/milestones",
        {"kind": "TOPPED_OUT", "date": "2023-06-01", "evidence": ["https://x/IMG_20230601.jpg"]},
    )
    assert also_in_uri.status_code == 201
    again = await svc.post("p1/milestones", {"kind": "TOPPED_OUT", "date": "2023-06-02"})
    assert "TOPPED_OUT 已于 2023-06-01 达成" in problem(again, 409)["detail"]


async def test_bad_milestone_input_names_the_field(svc: Milestones) -> None:
    assert fields(await svc.post("p1/milestones", {"kind": "LAUNCHED", "date": "2023-03-01"})) == [
        "kind"
    ]
    assert fields(await svc.post("p1/milestones", {"kind": "CUSTOM", "date": "2023-03-01"})) == [
        "label"
    ]
    assert fields(
        await svc.post("p1/milestones", {"kind": "TOPPED_OUT", "date": "2099-03-01"})
    ) == ["date"]
    unknown = await svc.post("nope/milestones", {"kind": "TOPPED_OUT", "date": "2023-03-01"})
    problem(unknown, 404)
    other_park = await svc.post(
        "p1/milestones", {"kind": "TOPPED_OUT", "date": "2023-03-01"}, headers=operator("枫杨")
    )
    problem(other_park, 403)


async def test_suspend_resume_and_the_admins_audited_correction(svc: Milestones) -> None:
    await svc.post("p1/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]})
    suspended = await svc.post(
        "p1/suspend", {"date": "2023-05-01", "reason": "环评整改"}, headers=operator("梧桐")
    )
    assert suspended.json()["stage"] == "SUSPENDED"
    assert suspended.json()["resume_to"] == "UNDER_CONSTRUCTION"
    problem(await svc.post("p1/suspend", {"reason": "again"}), 409)
    resumed = await svc.post("p1/resume", {"date": "2023-06-01"})
    assert (resumed.json()["stage"], resumed.json()["resume_to"]) == ("UNDER_CONSTRUCTION", None)

    correction = {"to_stage": "SIGNED", "reason": "开工照片属于另一个项目"}
    problem(await svc.post("p1/stage-corrections", correction, headers=operator("梧桐")), 403)
    assert fields(await svc.post("p1/stage-corrections", {"to_stage": "SIGNED"})) == ["reason"]
    corrected = await svc.post("p1/stage-corrections", correction)
    assert corrected.json()["stage"] == "SIGNED"
    changes = [e["data"] for e in await svc.events("sanpi.project.stage_changed")]
    assert [(c["to_stage"], c["reason"]) for c in changes] == [
        ("UNDER_CONSTRUCTION", "MILESTONE"),
        ("SUSPENDED", "SUSPENDED"),
        ("UNDER_CONSTRUCTION", "RESUMED"),
        ("SIGNED", "CORRECTION"),
    ]
    assert (changes[-1]["changed_by"], changes[-1]["note"]) == ("admin-1", correction["reason"])
    # Each change carries the project's next stage version, so readers can order them.
    assert [c["version"] for c in changes] == [1, 2, 3, 4]
    # After the correction the start can be recorded again, with the right evidence.
    again = await svc.post(
        "p1/milestones", {"kind": "STARTED", "date": "2023-06-10", "evidence": [PHOTO]}
    )
    assert again.json()["stage"] == "UNDER_CONSTRUCTION"


async def test_progress_reports_validation_lateness_and_corrections(svc: Milestones) -> None:
    def rep(key: str, cum: int, **extra: Any) -> dict[str, Any]:
        return {
            "period_key": key,
            "completed_investment_cum": cum,
            "completed_investment_ytd": min(cum, extra.pop("ytd", cum)),
            **extra,
        }

    on_time = await svc.post("p1/progress", rep("2023-06-X2", 20_000, physical_progress_pct=20))
    assert on_time.status_code == 201, on_time.text
    assert (on_time.json()["late"], on_time.json()["deadline"]) == (False, "2023-06-22")
    late = await svc.post("p1/progress", rep("2023-05-X3", 15_000))
    assert (late.json()["late"], late.json()["deadline"]) == (True, "2023-06-02")
    month = await svc.post("p1/progress", rep("2023-05", 15_000))
    assert (month.json()["period_kind"], month.json()["late"]) == ("MONTH", True)

    falling = await svc.post("p1/progress", rep("2023-06-X1", 14_000))
    assert fields(falling) == ["completed_investment_cum"]
    backfill_above_later = await svc.post("p1/progress", rep("2023-05-X2", 25_000))
    assert fields(backfill_above_later) == ["completed_investment_cum"]
    corrected = await svc.post("p1/progress", rep("2023-06-X1", 14_000, correction=True))
    assert corrected.status_code == 201
    assert fields(await svc.post("p1/progress", rep("2023-06-X1", 190_000, correction=True))) == [
        "completed_investment_cum"
    ]  # above the 150000 total
    problem(await svc.post("p1/progress", rep("2023-06-X2", 20_000)), 409)  # already reported
    assert fields(await svc.post("p1/progress", rep("2023-06-X4", 1))) == ["period_key"]
    assert fields(await svc.post("p1/progress", rep("2023-07-X1", 30_000))) == ["period_key"]
    too_much_ytd = {**rep("2023-04-X1", 10_000), "completed_investment_ytd": 40_000}
    assert fields(await svc.post("p1/progress", too_much_ytd)) == ["completed_investment_ytd"]
    assert fields(await svc.post("p1/progress", rep("2023-06", 30_000, period_kind="XUN"))) == [
        "period_kind"
    ]
    backdated = rep("2023-04-X3", 12_000, submitted_on="2023-05-02")
    assert fields(await svc.post("p1/progress", backdated, headers=operator("梧桐"))) == [
        "submitted_on"
    ]
    admin_backfill = await svc.post("p1/progress", backdated)
    assert admin_backfill.status_code == 201, admin_backfill.text
    assert admin_backfill.json()["late"] is False
    reported = await svc.events("sanpi.progress.reported")
    assert [
        (e["data"]["period_key"], e["data"]["late"], e["data"]["correction"]) for e in reported
    ] == [
        ("2023-06-X2", False, False),
        ("2023-05-X3", True, False),
        ("2023-05", True, False),
        ("2023-06-X1", True, True),
        ("2023-04-X3", False, False),
    ]
    listed = (await svc.client.get("/v1/projects/p1/progress", params={"limit": 2})).json()
    assert len(listed["items"]) == 2
    assert listed["next_cursor"]


async def test_investment_plan_splits_must_add_up(svc: Milestones) -> None:
    url = "/v1/projects/p1/investment-plans/2023"
    bad = await svc.client.put(url, json={"annual_plan": 36_000, "monthly": [1_000] * 12})
    assert fields(bad) == ["monthly"]
    above = await svc.client.put(url, json={"annual_plan": 200_000})
    assert fields(above) == ["annual_plan"]
    # The summary names no split the request did not send (it read 分解与合计不符).
    assert above.json()["detail"] == "年度投资计划有误，见各项说明"
    short = await svc.client.put(url, json={"annual_plan": 12, "xun": [1] * 12})
    assert fields(short) == ["xun"]
    ok = await svc.client.put(
        url, json={"annual_plan": 36_000, "monthly": [3_000] * 12, "xun": [1_000] * 36}
    )
    assert ok.status_code == 200, ok.text
    plans = (await svc.client.get("/v1/projects/p1/investment-plans")).json()["items"]
    assert [(p["year"], p["annual_plan"], p["source"]) for p in plans] == [(2023, 36_000, "API")]
    assert (
        await svc.client.put("/v1/projects/p1/investment-plans/1999", json={"annual_plan": 1})
    ).status_code == 422


async def test_evaluate_is_admin_only_and_names_a_malformed_as_of(svc: Milestones) -> None:
    bad = await svc.client.post("/v1/admin/evaluate", params={"as_of": "2023-13-01"})
    assert fields(bad) == ["query.as_of"]
    viewer = auth(Role.VIEWER)
    problem(await svc.client.post("/v1/admin/evaluate", headers=viewer), 403)
    problem(await svc.client.post("/v1/admin/evaluate", headers=operator("梧桐")), 403)
    assert (await svc.client.get("/v1/alerts", headers=viewer)).status_code == 200
    today = await svc.client.post("/v1/admin/evaluate")
    assert today.json()["as_of"] == "2023-06-15"  # the injected clock


async def test_a_report_is_checked_against_its_project(svc: Milestones) -> None:
    """What a report reads of its project: unknown → 404, its total bounds the cumulative."""
    body = {"period_key": "2023-06-X1", "completed_investment_cum": 150_001}
    body["completed_investment_ytd"] = 1
    unknown = problem(await svc.post("nope/progress", body), 404)
    assert unknown["detail"] == "项目 nope 不存在（里程碑服务尚未收到它的登记）"
    over = problem(await svc.post("p1/progress", body), 422)
    assert over["errors"] == [
        {
            "field": "completed_investment_cum",
            "reason": "累计完成投资 150001 万元超过项目总投资 150000 万元",
        }
    ]
    body["completed_investment_cum"] = 150_000
    assert (await svc.post("p1/progress", body)).status_code == 201


async def test_the_report_route_skips_fastapis_solver_only_where_it_answers_alike(
    svc: Milestones, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The common report (JSON that validates, no Idempotency-Key) takes the route's own path;
    everything else takes FastAPI's, with the answers FastAPI gives."""
    import fastapi.routing

    solved: list[str] = []
    solve = fastapi.routing.solve_dependencies  # type: ignore[attr-defined]

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    report = {"period_key": "2023-06-X2", "completed_investment_cum": 20_000}
    report["completed_investment_ytd"] = 20_000
    direct = await svc.post("p1/progress", report)
    assert direct.status_code == 201, direct.text
    assert solved == []
    assert direct.json()["reported_by"] == "admin-1"
    assert (direct.json()["period_key"], direct.json()["late"]) == ("2023-06-X2", False)
    # Business refusals come from the service on either path.
    problem(await svc.post("p1/progress", report), 409)
    assert solved == []

    keyed = {**report, "period_key": "2023-06-X1"}
    first = await svc.post("p1/progress", keyed, headers={"Idempotency-Key": "k-1"})
    again = await svc.post("p1/progress", keyed, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert fields(await svc.post("p1/progress", report, headers={"Idempotency-Key": ""})) == [
        "header.Idempotency-Key"
    ]
    assert fields(await svc.post("p1/progress", {**report, "completed_investment_cum": "x"})) == [
        "completed_investment_cum"
    ]
    malformed = await svc.client.post(
        "/v1/projects/p1/progress", content=b"{", headers={"content-type": "application/json"}
    )
    assert problem(malformed, 400)["type"] == "urn:sanpi:problem:malformed-json"
    # FastAPI's handler answered it before solving anything.
    assert len(solved) == 4
    # The caller is checked on the route's own path as on FastAPI's, once.
    no_token = await svc.post("p1/progress", report, headers={"Authorization": ""})
    problem(no_token, 401)
    viewer = await svc.post("p1/progress", report, headers=auth(Role.VIEWER))
    problem(viewer, 403)
    assert len(solved) == 4
