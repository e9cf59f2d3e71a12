"""Alerts end to end in-process: the reconciler raises once, updates, resolves; muting, cancelling,
pinning, the schedule, traffic lights, the timeline, and re-delivered events changing nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import TextClause, event, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from sanpi.events import (
    CancelReason,
    ProjectCancelled,
    ProjectListed,
    ProjectRegistered,
    ProjectUpdated,
    Stage,
    build_record,
    from_value,
    parse_data,
)
from sanpi.events.vocabulary import BatchType
from sanpi.kit import Outcome
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.rules import repository as alerts
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules.models import Alert, AlertState
from sanpi.milestone.settings import MilestoneSettings
from tests.support.milestone import FakeRecord, Milestones, at, milestone_service
from tests.support.waiting import eventually

PHOTO = {"uri": "https://evidence.example/site.jpg", "taken_at": "2023-03-01"}
D = dt.date


async def started_with_plan(svc: Milestones, project_id: str = "p1", **fields: Any) -> None:
    await svc.register(project_id, **fields)
    await svc.feed(
        ProjectListed(
            project_id=project_id,
            period=7,
            batch=BatchType.SIGN,
            event_date=D(2023, 1, 28),
            listed_total_investment=150_000,
        )
    )
    started = await svc.post(
        f"{project_id}/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]}
    )
    assert started.status_code == 201, started.text
    plan = await svc.client.put(
        f"/v1/projects/{project_id}/investment-plans/2023", json={"annual_plan": 36_000}
    )
    assert plan.status_code == 200


async def report(svc: Milestones, key: str, ytd: int, project_id: str = "p1") -> None:
    response = await svc.post(
        f"{project_id}/progress",
        {"period_key": key, "completed_investment_cum": ytd, "completed_investment_ytd": ytd},
    )
    assert response.status_code == 201, response.text


async def test_r04_is_raised_once_updated_on_severity_change_and_resolved(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        await report(svc, "2023-06-X1", 8_000)  # 22 % done, 44 % expected on 15 June
        key = "R04:p1:XUN"
        first = await svc.evaluate(D(2023, 6, 15))
        assert key in first["raised"]
        await svc.evaluate(D(2023, 6, 15))
        await svc.evaluate(D(2023, 7, 3))  # 50 % expected: still yellow, nothing to say
        assert await svc.alert_events(key) == [("raised", "yellow")]

        worse = await svc.evaluate(D(2023, 8, 3))  # 58 % expected: 36 points behind
        assert await svc.alert_events(key) == [("raised", "yellow"), ("updated", "red")]
        svc.clock.set(at(D(2023, 8, 3)))
        await report(svc, "2023-07-X3", 20_000)  # caught up: 56 % vs 58 %
        resolved = await svc.evaluate(D(2023, 8, 3))
        assert key in resolved["resolved"]
        assert await svc.alert_events(key) == [
            ("raised", "yellow"),
            ("updated", "red"),
            ("resolved", "red"),
        ]

        events = [
            e["data"] for e in await svc.events("sanpi.alert.") if e["data"]["alert_key"] == key
        ]
        updated = events[1]
        assert updated["previous_severity"] == "yellow"
        assert updated["evaluation_id"] == worse["evaluation_id"]
        assert {k: updated[k] for k in ("park", "chain_tag", "category", "total_investment")} == {
            "park": "梧桐",
            "chain_tag": "HYDROGEN_STORAGE",
            "category": "STRATEGIC_EMERGING",
            "total_investment": 150_000,
        }
        assert updated["periods"] == [7]
        assert (updated["responsible_person"], updated["sponsor_leader"]) == ("张三", "李四")
        assert updated["as_of"] == "2023-08-03"
        assert events[0]["first_raised_at"] == events[2]["first_raised_at"]

        rows = (
            await svc.client.get("/v1/alerts", params={"rule": "R04", "project_id": "p1"})
        ).json()
        assert [
            (a["alert_key"], a["state"], a["severity"])
            for a in rows["items"]
            if a["alert_key"] == key
        ] == [(key, "RESOLVED", "red")]
        # Behind again later: a new episode of the same key.
        await svc.evaluate(D(2023, 11, 3))
        episodes = (await svc.client.get("/v1/alerts", params={"rule": "R04"})).json()["items"]
        assert [a["state"] for a in episodes if a["alert_key"] == key] == ["RESOLVED", "FIRING"]


async def test_an_evaluation_stores_every_column_and_its_transaction_reads_them(
    tmp_path: Path,
) -> None:
    """Alerts are written by executemany, not as ORM objects: the rows carry what the events
    say, and later reads of the same transaction (another pass, the firing alerts) see them."""
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        await report(svc, "2023-06-X1", 8_000)  # 22 % done, 44 % expected on 15 June
        settings = svc.runtime.settings
        assert isinstance(settings, MilestoneSettings)
        key = "R04:p1:XUN"
        async with svc.runtime.db.transaction() as uow:
            session = uow.session
            first = await rules.evaluate(uow, JUDGED, settings=settings, as_of=D(2023, 6, 15))
            assert key in first.raised
            raised = {a.alert_key: a for a in await alerts.firing_for(session, ["p1"])}
            assert set(raised) == set(first.raised)
            again = await rules.evaluate(uow, JUDGED, settings=settings, as_of=D(2023, 6, 15))
            assert (again.raised, again.updated, again.resolved) == ([], [], [])
            worse = await rules.evaluate(uow, JUDGED, settings=settings, as_of=D(2023, 8, 3))
            assert key in worse.updated
            [red] = [a for a in await alerts.firing_for(session, ["p1"]) if a.alert_key == key]
            assert (red.severity, red.as_of, red.evaluation_id) == (
                "red",
                D(2023, 8, 3),
                worse.evaluation_id,
            )
            # The table, read in the transaction, agrees with the row it holds.
            stored = select(col(Alert.severity), col(Alert.as_of)).where(Alert.alert_key == key)
            assert tuple((await session.exec(stored)).one()) == ("red", D(2023, 8, 3))

        events = [e for e in await svc.events("sanpi.alert.") if e["data"]["alert_key"] == key]
        assert [e["type"] for e in events] == ["sanpi.alert.raised.v1", "sanpi.alert.updated.v1"]
        async with svc.runtime.db.read() as session:
            [row] = (await session.exec(select(Alert).where(Alert.alert_key == key))).all()
        updated = events[1]["data"]
        assert str(uuid.UUID(row.id)) == row.id
        assert (row.rule, row.severity, row.state) == ("R04", "red", AlertState.FIRING)
        assert (row.project_id, row.park, row.project_name) == ("p1", "梧桐", "雄韬氢能产业园")
        assert (row.title, row.message, row.metric_value, row.threshold) == (
            updated["title"],
            updated["message"],
            updated["metric_value"],
            updated["threshold"],
        )
        assert row.message
        assert None not in (row.metric_value, row.threshold)
        assert (row.as_of, row.evaluation_id) == (D(2023, 8, 3), worse.evaluation_id)
        assert row.first_raised_at == dt.datetime.fromisoformat(updated["first_raised_at"])
        assert row.created_at == row.first_raised_at < row.updated_at
        assert row.resolved_at is None
        assert row.updated_at.tzinfo is dt.UTC


async def test_alert_list_filters_and_paginates(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        await svc.register("p2", park="枫杨", planned_start_date=D(2023, 2, 1))
        await svc.evaluate(D(2023, 8, 3))
        everything = (await svc.client.get("/v1/alerts")).json()["items"]
        assert {a["park"] for a in everything} == {"梧桐", "枫杨"}
        pages: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await svc.client.get("/v1/alerts", params=params)).json()
            pages.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [a["id"] for a in pages] == [a["id"] for a in everything]
        red_fengyang = (
            await svc.client.get("/v1/alerts", params={"park": "枫杨", "severity": "red"})
        ).json()["items"]
        # A late start is R02's alone: R05 does not repeat it for the STARTED node (R01 says
        # that no 履约 was recorded either).
        assert {a["alert_key"] for a in red_fengyang} == {"R01:p2", "R02:p2"}
        assert (await svc.client.get("/v1/alerts", params={"severity": "pink"})).status_code == 422
        bad_cursor = await svc.client.get("/v1/alerts", params={"cursor": "%%%"})
        assert [e["field"] for e in bad_cursor.json()["errors"]] == ["cursor"]

        lights = {
            x["park"]: x for x in (await svc.client.get("/v1/traffic-lights")).json()["items"]
        }
        assert lights["枫杨"]["overall"] == "red"
        assert lights["枫杨"]["counts"]["red"] == 1
        assert lights["梧桐"]["projects"] == 1


async def test_suspension_mutes_overdue_rules_and_r11_watches_it(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as svc:  # evaluation on events, as of the clock
        await svc.register(planned_production_date=D(2023, 5, 1))
        await svc.post(
            "p1/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]}
        )
        # The milestone post evaluated the project as of 15 June: production 45 days late.
        assert await svc.alert_events("R09:p1") == [("raised", "orange")]
        await svc.post("p1/suspend", {"date": "2023-06-15", "reason": "资金暂未到位"})
        assert await svc.alert_events("R09:p1") == [("raised", "orange"), ("resolved", "orange")]
        svc.clock.set(at(D(2023, 7, 16)))  # 31 days suspended, no 复工 plan
        await svc.client.post("/v1/admin/evaluate")
        assert await svc.alert_events("R11:p1") == [("raised", "red")]
        assert await svc.alert_events("R09:p1") == [("raised", "orange"), ("resolved", "orange")]
        await svc.post("p1/resume", {})
        assert await svc.alert_events("R11:p1") == [("raised", "red"), ("resolved", "red")]
        assert (await svc.alert_events("R09:p1"))[-1] == ("raised", "orange")  # clock runs again


async def test_a_cancelled_project_resolves_its_alerts_and_takes_no_reports(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as svc:
        await started_with_plan(svc, planned_production_date=D(2023, 5, 1))
        firing = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()["items"]
        assert firing
        cancel = ProjectCancelled(
            project_id="p1",
            version=2,
            reason_code=CancelReason.INVESTOR_FUNDING,
            reason="投资方资金链断裂",
            effective_date=D(2023, 6, 15),
            cancelled_by="reg-admin",
        )
        seen = len(await svc.events())
        assert await svc.feed(cancel) is Outcome.PROCESSED
        assert (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()[
            "items"
        ] == []
        after = (await svc.events())[seen:]
        resolved = {e["data"]["alert_key"] for e in after if e["type"] == "sanpi.alert.resolved.v1"}
        assert resolved == {a["alert_key"] for a in firing}
        last = (await svc.events("sanpi.project.stage_changed"))[-1]["data"]
        assert (last["to_stage"], last["reason"], last["changed_by"]) == (
            "CANCELLED",
            "CANCELLED",
            "reg-admin",
        )
        refused = await svc.post(
            "p1/progress",
            {
                "period_key": "2023-06-X1",
                "completed_investment_cum": 1,
                "completed_investment_ytd": 1,
            },
        )
        assert refused.status_code == 409


async def test_pinned_evaluation_date_drives_event_evaluations(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as svc:
        await svc.register()
        await svc.post(
            "p1/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]}
        )
        await svc.evaluate(D(2023, 8, 3), pin="true")
        # The plan arrives: the event-driven pass runs as of the pinned 3 August (58 % expected,
        # nothing reported: red), not as of the clock's 15 June.
        plan = await svc.client.put(
            "/v1/projects/p1/investment-plans/2023", json={"annual_plan": 36_000}
        )
        assert plan.status_code == 200
        raised = [e["data"] for e in await svc.events("sanpi.alert.raised")]
        r04 = next(a for a in raised if a["alert_key"] == "R04:p1:XUN")
        assert (r04["as_of"], r04["severity"]) == ("2023-08-03", "red")
        assert (await svc.client.delete("/v1/admin/evaluate/pin")).status_code == 204
        back = await svc.client.post("/v1/admin/evaluate")
        assert back.json()["as_of"] == "2023-06-15"


async def test_milestone_due_soon_and_overdue_are_emitted_once(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register()
        await svc.evaluate(D(2023, 2, 22))  # STARTED due 1 March: 7 days
        await svc.evaluate(D(2023, 2, 23))
        await svc.evaluate(D(2023, 3, 2))
        await svc.evaluate(D(2023, 3, 5))
        soon = await svc.events("sanpi.milestone.due_soon")
        overdue = await svc.events("sanpi.milestone.overdue")
        assert [(e["data"]["kind"], e["data"]["days_to_due"]) for e in soon] == [("STARTED", 7)]
        assert [(e["data"]["kind"], e["data"]["days_overdue"]) for e in overdue] == [("STARTED", 1)]
        plan = (await svc.client.get("/v1/projects/p1/milestones")).json()["items"]
        assert next(m for m in plan if m["kind"] == "STARTED")["status"] == "OVERDUE"


async def test_the_timeline_holds_every_event_with_who_and_when(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        replan = await svc.post(
            "p1/milestones/IN_PRODUCTION/forecast",
            {"forecast_date": "2024-09-30", "reason": "设备到货推迟"},
        )
        assert replan.json()["forecast_date"] == "2024-09-30"
        await report(svc, "2023-06-X1", 8_000)
        await svc.evaluate(D(2023, 6, 15))
        timeline = (await svc.client.get("/v1/projects/p1/timeline")).json()
        types = [i["event_type"] for i in timeline["items"]]
        expected_order = [
            "sanpi.project.registered.v1",
            "sanpi.project.listed.v1",
            "sanpi.milestone.achieved.v1",
            "sanpi.project.stage_changed.v1",
            "investment_plan.set",
            "sanpi.milestone.replanned.v1",
            "sanpi.progress.reported.v1",
            "sanpi.alert.raised.v1",
        ]
        positions = [types.index(t) for t in expected_order]
        assert positions == sorted(positions)
        by = {i["event_type"]: i["by"] for i in timeline["items"]}
        assert by["sanpi.milestone.achieved.v1"] == "admin-1"
        assert by["sanpi.project.registered.v1"] == "registry"
        assert by["sanpi.alert.raised.v1"] == "rules"
        assert all(i["at"] for i in timeline["items"])
        first = (await svc.client.get("/v1/projects/p1/timeline", params={"limit": 3})).json()
        rest = (
            await svc.client.get(
                "/v1/projects/p1/timeline", params={"cursor": first["next_cursor"]}
            )
        ).json()
        assert [i["seq"] for i in first["items"] + rest["items"]] == [
            i["seq"] for i in timeline["items"]
        ]


async def test_the_schedule_evaluates_without_being_asked(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluation_interval_s=0.05) as svc:
        await svc.register(planned_start_date=D(2023, 5, 10))  # May ended without a start

        async def raised() -> bool:
            return await svc.alert_events("R02:p1") == [("raised", "yellow")]

        await eventually(raised, what="the scheduled pass raised R02")
        svc.clock.set(at(D(2023, 7, 28)))  # 180 days after signing on 28 January

        async def red() -> bool:
            return (await svc.alert_events("R02:p1"))[-1] == ("updated", "red")

        await eventually(red, what="the scheduled pass saw the new day")


TABLES = (
    "tracked_project",
    "stage_change",
    "milestone_node",
    "investment_plan",
    "progress_report",
    "alert",
    "timeline_entry",
    "outbox",
)


def select_all(table: str) -> TextClause:
    assert table in TABLES
    return text("SELECT * FROM " + table)  # noqa: S608 - one of the fixed TABLES


async def snapshot(svc: Milestones) -> dict[str, list[tuple[Any, ...]]]:
    async with svc.runtime.db.read() as session:
        connection = await session.connection()
        return {
            table: [tuple(row) for row in (await connection.execute(select_all(table))).all()]
            for table in TABLES
        }


def replanned_production(project_id: str) -> ProjectUpdated:
    """Version 2 of a project's master data: new name and total, production moved to August."""
    return ProjectUpdated(
        project_id=project_id,
        version=2,
        name="雄韬氢能产业园 (一期)",
        park="梧桐",
        total_investment=160_000,
        planned_start_date=D(2023, 3, 1),
        planned_production_date=D(2023, 8, 1),
        changed=["name", "total_investment", "planned_production_date"],
    )


async def test_redelivering_every_consumed_event_twice_changes_nothing(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as svc:
        await started_with_plan(svc, planned_production_date=D(2023, 5, 1))
        await svc.feed(replanned_production("p1"))
        await svc.feed(
            ProjectCancelled(
                project_id="p1",
                version=3,
                reason_code=CancelReason.MERGED,
                reason="并入二期",
                effective_date=D(2023, 6, 15),
                cancelled_by="reg-admin",
            )
        )
        before = await snapshot(svc)
        assert before["alert"], "the flow raised and resolved alerts"
        for _ in range(2):
            for record in svc.records:
                assert await svc.replay(record) is Outcome.DUPLICATE
        assert await snapshot(svc) == before
        # The registry re-publishing the same facts (new event ids) changes nothing either.
        for record in list(svc.records):
            assert await svc.feed(parse_data(from_value(record.value))) is Outcome.PROCESSED
        assert await snapshot(svc) == before


async def test_concurrent_full_passes_raise_each_alert_once(tmp_path: Path) -> None:
    # Two replicas' scheduled passes at the same moment: they take turns (PostgreSQL advisory
    # lock, SQLite's write lock), and one firing row per key is a constraint besides.
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        for i in range(6):
            await svc.register(f"c{i}", planned_start_date=D(2023, 2, 1))
        first, second = await asyncio.gather(
            svc.evaluate(D(2023, 8, 3)), svc.evaluate(D(2023, 8, 3))
        )
        raised = [e["data"]["alert_key"] for e in await svc.events("sanpi.alert.raised")]
        assert sorted(raised) == sorted(set(raised)), "an alert raised twice"
        assert len(first["raised"]) + len(second["raised"]) == len(raised)
        firing = (await svc.client.get("/v1/alerts", params={"limit": 500})).json()["items"]
        keys = [a["alert_key"] for a in firing]
        assert sorted(keys) == sorted(set(keys))
        assert {f"R02:c{i}" for i in range(6)} <= set(keys)


async def test_the_database_refuses_a_second_firing_row_for_a_key(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register("dup", planned_start_date=D(2023, 2, 1))
        await svc.evaluate(D(2023, 8, 3))
        async with svc.runtime.db.read() as session:
            [firing] = (await session.exec(select(Alert).where(Alert.alert_key == "R02:dup"))).all()
        twin = Alert(**{**firing.model_dump(), "id": "twin"})
        with pytest.raises(IntegrityError):
            async with svc.runtime.db.transaction() as uow:
                uow.session.add(twin)
        resolved_twin = Alert(
            **{**firing.model_dump(), "id": "old-episode", "state": AlertState.RESOLVED}
        )
        async with svc.runtime.db.transaction() as uow:
            session = uow.session
            session.add(resolved_twin)  # earlier episodes of the key are kept


async def test_a_full_pass_publishes_each_parks_investment_pacing(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as svc:
        await started_with_plan(svc, "p1", park="梧桐")
        await started_with_plan(svc, "p2", park="雪松")
        await started_with_plan(svc, "p3", park="雪松")
        await report(svc, "2023-05", 12_000, project_id="p1")
        await report(svc, "2023-05", 9_000, project_id="p3")
        await svc.evaluate(D(2023, 6, 15))

    def gauge(name: str, park: str) -> float | None:
        return REGISTRY.get_sample_value(f"sanpi_investment_{name}_wan", {"park": park})

    # Five months ended of an even 36,000 plan: 15,000 expected of each project.
    assert gauge("completed_ytd", "梧桐") == 12_000
    assert gauge("expected_ytd", "梧桐") == 15_000
    assert gauge("annual_plan", "梧桐") == 36_000
    assert gauge("completed_ytd", "雪松") == 9_000
    assert gauge("expected_ytd", "雪松") == 30_000
    assert gauge("annual_plan", "雪松") == 72_000


BATCH_COLUMNS = {
    "tracked_project": "project_id, name, total_investment, stage, stage_since, registry_version",
    "stage_change": "project_id, to_stage, effective_date, reason",
    "milestone_node": "project_id, kind, label, baseline_date, forecast_date, actual_date, status",
    "investment_plan": "project_id, year, annual_plan, source",
    "alert": "alert_key, severity, state",
    "timeline_entry": "project_id, event_type, summary",
}


async def content(svc: Milestones) -> dict[str, list[tuple[Any, ...]]]:
    """What the tables say, without ids and timestamps (which differ between two services)."""
    async with svc.runtime.db.read() as session:
        connection = await session.connection()
        found = {
            table: sorted(
                tuple(row)
                for row in await connection.execute(
                    text(f"SELECT {columns} FROM {table}")  # noqa: S608 - fixed names above
                )
            )
            for table, columns in BATCH_COLUMNS.items()
        }
    found["outbox"] = sorted((e["type"], e["subject"]) for e in await svc.events())
    return found


async def test_a_batch_with_its_lookups_prefetched_leaves_what_it_leaves_without(
    tmp_path: Path,
) -> None:
    # The registry's events for two projects, one tracked before the batch and one new in it:
    # each is looked up again after it changed within the batch.
    batch = [
        ProjectListed(
            project_id="p1",
            period=7,
            batch=BatchType.SIGN,
            event_date=D(2023, 1, 28),
            listed_total_investment=150_000,
            listed_annual_plan=30_000,
        ),
        replanned_production("p1"),
        ProjectRegistered(
            project_id="p2",
            version=1,
            name="新项目",
            park="雪松",
            total_investment=80_000,
            stage=Stage.SIGNED,
            signed_date=D(2023, 2, 1),
            planned_start_date=D(2023, 4, 1),
            planned_production_date=D(2024, 1, 1),
        ),
        ProjectListed(
            project_id="p2",
            period=8,
            batch=BatchType.SIGN,
            event_date=D(2023, 2, 1),
            listed_total_investment=80_000,
            listed_annual_plan=20_000,
        ),
        replanned_production("p2"),
        ProjectRegistered(  # the same project again, under a new event id: changes nothing
            project_id="p2",
            version=1,
            name="新项目",
            park="雪松",
            total_investment=1,
            stage=Stage.SIGNED,
        ),
    ]
    found = []
    for prefetching in (False, True):
        # No background jobs: the gauges' refresh and the sweep select on their own schedule and
        # would add their statements to whichever count they land in.
        async with milestone_service(tmp_path / str(prefetching), jobs=()) as svc:
            await svc.register("p1", planned_production_date=D(2023, 5, 1))
            consumer = svc.runtime.consumer
            assert consumer is not None
            if not prefetching:
                consumer.prepare = None
            statements: list[str] = []

            def count(*args: Any, statements: list[str] = statements) -> None:
                statements.append(args[2])

            engine = svc.runtime.db.engine.sync_engine
            event.listen(engine, "before_cursor_execute", count)
            records = [
                FakeRecord(r.value, r.key, offset=i)
                for i, (_e, r) in enumerate(
                    build_record(d, source="/sanpi/registry") for d in batch
                )
            ]
            await consumer.process_many(records)
            event.remove(engine, "before_cursor_execute", count)
            found.append((await content(svc), len(statements)))
    (without, statements_without), (prefetched, statements_prefetched) = found
    assert prefetched == without
    assert statements_prefetched < statements_without
    # And what the batch did is what it should have done.
    # p2: registered, then updated (version 2); the second registration changed nothing.
    assert prefetched["tracked_project"][1][0::5] == ("p2", 2)
    assert prefetched["tracked_project"][1][2] == 160_000
    assert ("p1", 2023, 30_000, "REGISTRY") in prefetched["investment_plan"]
    assert ("p2", 2023, 20_000, "REGISTRY") in prefetched["investment_plan"]
    replanned = [e for e in prefetched["outbox"] if e[0] == "sanpi.milestone.replanned.v1"]
    # p1's production date moved; p2's start and production dates moved.
    assert sorted(subject for _type, subject in replanned) == ["p1", "p2", "p2"]


async def test_an_evaluation_that_finds_nothing_new_leaves_a_firing_alert_untouched(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        await report(svc, "2023-06-X1", 8_000)
        key = "R04:p1:XUN"
        first = await svc.evaluate(D(2023, 6, 15))
        assert key in first["raised"]

        async def stored() -> tuple[Any, ...]:
            async with svc.runtime.db.read() as session:
                row = (await session.exec(select(Alert).where(Alert.alert_key == key))).one()
                return (row.evaluation_id, row.updated_at, row.as_of, row.message)

        raised = await stored()
        again = await svc.evaluate(D(2023, 6, 15))
        assert await stored() == raised, "the same day, the same figures: no write"
        assert again["evaluation_id"] != first["evaluation_id"]
        later = await svc.evaluate(D(2023, 6, 25))  # another day: new figures, same colour
        refreshed = await stored()
        assert refreshed[0] == later["evaluation_id"]
        assert refreshed[2] == D(2023, 6, 25)
        assert refreshed[3] != raised[3]
        assert await svc.alert_events(key) == [("raised", "yellow")]


async def test_another_day_is_a_preview_writing_and_notifying_nothing(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await started_with_plan(svc)  # the clock says 15 June; nothing reported
        before = await svc.events()
        preview = await svc.preview(D(2023, 8, 3))
        # What an evaluation as of 3 August would find: R04 red (58 % expected, nothing done).
        assert (preview["preview"], preview["pinned"], preview["as_of"]) == (
            True,
            False,
            "2023-08-03",
        )
        r04 = next(a for a in preview["alerts"] if a["alert_key"] == "R04:p1:XUN")
        assert (r04["severity"], r04["project_name"], r04["park"]) == (
            "red",
            "雄韬氢能产业园",
            "梧桐",
        )
        assert "R04:p1:XUN" in preview["raised"]
        # Nothing written, nobody told: no alert row, no event, no milestone status, no pin.
        assert (await svc.client.get("/v1/alerts")).json()["items"] == []
        assert await svc.events() == before
        milestones = (await svc.client.get("/v1/projects/p1/milestones")).json()
        assert {m["status"] for m in milestones["items"]} <= {"PENDING", "ACHIEVED"}, milestones
        today = await svc.client.post("/v1/admin/evaluate")
        assert (today.json()["as_of"], today.json()["preview"]) == ("2023-06-15", False)

        # The evaluation day itself (today, or the pinned day) is judged for real.
        written = await svc.client.post("/v1/admin/evaluate", params={"as_of": "2023-06-15"})
        assert (written.json()["preview"], written.json()["alerts"]) == (False, [])
        pinned = await svc.client.post(
            "/v1/admin/evaluate", params={"as_of": "2023-08-03", "pin": "true"}
        )
        assert (pinned.json()["preview"], pinned.json()["pinned"]) == (False, True)
        stored = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()["items"]
        r04_now = next(a for a in stored if a["alert_key"] == "R04:p1:XUN")
        assert (r04_now["as_of"], r04_now["severity"]) == ("2023-08-03", "red")
        again = await svc.client.post("/v1/admin/evaluate", params={"as_of": "2023-08-03"})
        assert again.json()["preview"] is False  # the pinned day is the evaluation day
