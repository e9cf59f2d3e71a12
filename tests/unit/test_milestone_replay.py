"""Milestone projection from the registry's events: a consumer batch writes what its events one
by one would (rows written at commit, read back within the batch)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import TopicPartition
from sqlmodel import SQLModel, col, select

from sanpi.events import (
    BatchType,
    CancelReason,
    EventData,
    ProjectCancelled,
    ProjectListed,
    ProjectRegistered,
    ProjectUpdated,
    Stage,
    build_record,
)
from sanpi.kit import Database, EventConsumer, Outcome
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.lifecycle.models import StageChange, TrackedProject
from sanpi.milestone.progress.models import InvestmentPlan
from sanpi.milestone.rules.jobs import sweep
from sanpi.milestone.rules.models import Alert, AlertState
from sanpi.milestone.rules.repository import mark_due
from sanpi.milestone.settings import MilestoneSettings
from tests.support import milestone
from tests.support.milestone import FakeRecord, Milestones, milestone_service
from tests.unit.test_milestone_coalesced import marks, passes

# Columns that differ between two runs of the same events: generated ids, clock times, event
# ids (also inside the outbox's CloudEvents).
VOLATILE = {"id", "at", "event_id", "evaluation_id", "milestone_id", "time"}
TABLES = (
    "tracked_project",
    "stage_change",
    "milestone_node",
    "investment_plan",
    "timeline_entry",
    "alert",
    "outbox",
    "inbox",
)


def _stable(value: Any) -> Any:
    if isinstance(value, bytes | str) and str(value[:1]) in ("{", "[", "b'{'", "b'['"):
        return _stable(json.loads(value))
    if isinstance(value, dict):
        return {
            k: _stable(v)
            for k, v in value.items()
            if k not in VOLATILE and not k.endswith("_at") and k != "headers"
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


async def contents(db: Database) -> dict[str, list[str]]:
    """Each table's rows without their volatile columns, as sorted JSON texts."""
    found: dict[str, list[str]] = {}
    async with db.read() as session:
        connection = await session.connection()
        for name in TABLES:
            table = SQLModel.metadata.tables[name]
            rows = (await connection.execute(sa.select(table))).mappings().all()
            found[name] = sorted(
                json.dumps(_stable(dict(row)), sort_keys=True, default=str, ensure_ascii=False)
                for row in rows
            )
    return found


def registration(project_id: str, **fields: Any) -> ProjectRegistered:
    return milestone.registration(project_id, annual_plan_investment=20_000, **fields)


def listing(project_id: str) -> ProjectListed:
    return ProjectListed(
        project_id=project_id,
        period=1,
        batch=BatchType.SIGN,
        event_date=dt.date(2023, 1, 28),
        listed_total_investment=150_000,
        listed_by="reg-op",
    )


def replanned() -> ProjectUpdated:
    """p1's second snapshot: a later start and a new annual plan."""
    return ProjectUpdated(
        project_id="p1",
        version=2,
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=150_000,
        annual_plan_investment=25_000,
        signed_date=dt.date(2023, 1, 28),
        planned_start_date=dt.date(2023, 4, 15),
        planned_production_date=dt.date(2024, 6, 30),
        changed=["planned_start_date", "annual_plan_investment"],
        updated_by="reg-op",
    )


def history() -> list[EventData]:
    """Registrations, a listing, an update that replans and changes the annual plan, a re-sent
    registration, a cancellation, and last a registration nothing in the batch reads after it:
    each later event reads what an earlier one wrote."""
    return [
        registration("p1"),
        registration("p2", stage=Stage.UNDER_CONSTRUCTION, planned_start_date=dt.date(2023, 2, 1)),
        listing("p1"),
        replanned(),
        registration("p1"),  # re-sent by the registry: a new event id, nothing new
        ProjectCancelled(
            project_id="p2",
            version=2,
            reason_code=CancelReason.INVESTOR_FUNDING,
            reason="投资方撤资",
            effective_date=dt.date(2023, 2, 10),
            cancelled_by="reg-op",
        ),
        registration(
            "p3", signed_date=dt.date(2022, 1, 10), planned_start_date=dt.date(2022, 3, 1)
        ),
    ]


async def in_one_transaction(
    consumer: EventConsumer | None, fed: Sequence[FakeRecord], caplog: pytest.LogCaptureFixture
) -> None:
    """Applies the records as one batch, and fails if the batch fell back to one transaction per
    record (which would hide a batch that cannot read its own rows)."""
    assert consumer is not None
    with caplog.at_level(logging.INFO, logger="sanpi.consumer"):
        await consumer.process_many(fed)
    assert not [r for r in caplog.records if "failed together" in r.getMessage()]


def records(events: Sequence[EventData]) -> list[FakeRecord]:
    built = [build_record(data, source="/sanpi/registry")[1] for data in events]
    return [FakeRecord(r.value, r.key, offset=i) for i, r in enumerate(built)]


async def test_a_batch_writes_the_rows_its_events_write_one_by_one(
    tmp_path: Path,
    another_database: Callable[[], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Rules off: evaluating once per batch instead of once per event may rightly raise fewer
    # alerts (one raised then resolved within the batch); the projection must not differ.
    today = dt.date(2023, 2, 20)
    quiet: dict[str, Any] = {"evaluate_on_events": False}
    fed = records(history())
    async with milestone_service(tmp_path / "one-by-one", today, **quiet) as alone:
        assert alone.runtime.consumer is not None
        outcomes = [await alone.runtime.consumer.process(r) for r in fed]
        assert outcomes == [Outcome.PROCESSED] * len(fed)
        expected = await contents(alone.runtime.db)
    url = await another_database()
    async with milestone_service(tmp_path / "batch", today, database_url=url, **quiet) as batch:
        await in_one_transaction(batch.runtime.consumer, fed, caplog)
        assert await contents(batch.runtime.db) == expected
        await check_rows(batch)


async def test_the_rules_evaluated_after_the_batch_read_the_rows_it_wrote(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with milestone_service(tmp_path, dt.date(2023, 2, 20)) as svc:
        assert svc.runtime.consumer is not None
        before, *fed = records([registration("p0"), listing("p0"), *history()])
        assert await svc.runtime.consumer.process(before) is Outcome.PROCESSED
        # The batch's first event asks for the evaluation before any row is queued (rows and
        # the evaluation's marks are written at commit): the evaluation after the commit must
        # see them all, and the batch returns only once it ran.
        await in_one_transaction(svc.runtime.consumer, fed, caplog)
        await check_rows(svc)
        # p3 was signed a year ago and has not started: R02 needs its tracked row and stage
        # history, and its STARTED milestone is overdue (a row written at commit, then updated).
        assert await svc.alert_events("R02:p3") == [("raised", "red")]
        items = (await svc.client.get("/v1/projects/p3/milestones")).json()["items"]
        assert {m["kind"]: m["status"] for m in items}["STARTED"] == "OVERDUE"


async def check_rows(svc: Milestones) -> None:
    """What the history leaves, as the rules and the API read it."""
    async with svc.runtime.db.read() as session:
        p1 = await session.get(TrackedProject, "p1")
        assert p1 is not None
        assert (p1.stage, p1.periods, p1.planned_start_date, p1.registry_version) == (
            Stage.SIGNED,
            [1],
            dt.date(2023, 4, 15),
            2,
        )
        changes = (await session.exec(select(StageChange).order_by(col(StageChange.id)))).all()
        plans = (await session.exec(select(InvestmentPlan))).all()
    # Each project's history in order (ids interleave differently across projects: a batch's
    # first stage changes go in at commit, later ones with the ORM's flush).
    assert {
        pid: [(c.to_stage, c.reason) for c in changes if c.project_id == pid]
        for pid in ("p1", "p2", "p3")
    } == {
        "p1": [(Stage.SIGNED, "REGISTERED")],
        "p2": [(Stage.UNDER_CONSTRUCTION, "REGISTERED"), (Stage.CANCELLED, "CANCELLED")],
        "p3": [(Stage.SIGNED, "REGISTERED")],
    }
    assert sorted((p.project_id, p.year, p.annual_plan, p.source) for p in plans)[-3:] == [
        ("p1", 2023, 25_000, "REGISTRY"),
        ("p2", 2023, 20_000, "REGISTRY"),
        ("p3", 2022, 20_000, "REGISTRY"),
    ]
    items = (await svc.client.get("/v1/projects/p1/milestones")).json()["items"]
    plan = {m["kind"]: m for m in items}
    assert (plan["SIGNED"]["actual_date"], plan["SIGNED"]["status"]) == ("2023-01-28", "ACHIEVED")
    started = plan["STARTED"]
    assert (started["baseline_date"], started["forecast_date"]) == ("2023-03-01", "2023-04-15")
    replanned = await svc.events("sanpi.milestone.replanned")
    assert [e["data"]["forecast_date"] for e in replanned] == ["2023-04-15"]


async def test_the_rules_evaluated_after_the_batch_read_a_plan_it_queued_after_asking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with milestone_service(tmp_path, dt.date(2023, 2, 20)) as svc:
        assert svc.runtime.consumer is not None
        started = registration(
            "q1", stage=Stage.UNDER_CONSTRUCTION, planned_start_date=dt.date(2023, 1, 5)
        )
        before, *fed = records([registration("p0"), listing("p0"), started])
        assert await svc.runtime.consumer.process(before) is Outcome.PROCESSED
        # The listing asks for the evaluation first; q1's plan of 20,000 万元 for 2023 is
        # queued after it. Read after the commit, the plan says q1 is behind: nothing reported by
        # 2023-02-10 against the time's share of the year.
        await in_one_transaction(svc.runtime.consumer, fed, caplog)
        raised = {e["data"]["alert_key"] for e in await svc.events("sanpi.alert.raised")}
        assert "R04:q1:XUN" in raised


def backlog() -> list[EventData]:
    """A replay's worth for 24 projects: registered (signed a year before, not started: R02),
    then listed, then every third one cancelled (its alert resolves): each project appears in
    three batches of 8."""
    ids = [f"r{n:02}" for n in range(24)]
    late = {"signed_date": dt.date(2022, 1, 10), "planned_start_date": dt.date(2022, 3, 1)}
    cancelled = [
        ProjectCancelled(
            project_id=pid,
            version=2,
            reason_code=CancelReason.INVESTOR_FUNDING,
            reason="投资方撤资",
            effective_date=dt.date(2023, 2, 10),
            cancelled_by="reg-op",
        )
        for pid in ids[::3]
    ]
    return [*(registration(pid, **late) for pid in ids), *(listing(pid) for pid in ids), *cancelled]


async def firing(svc: Milestones) -> list[tuple[str, str]]:
    async with svc.runtime.db.read() as session:
        rows = (await session.exec(select(Alert).where(Alert.state == AlertState.FIRING))).all()
    return sorted((a.alert_key, a.severity) for a in rows)


async def test_a_consumer_catching_up_evaluates_each_project_once_when_it_has_caught_up(
    tmp_path: Path, another_database: Callable[[], Awaitable[str]]
) -> None:
    today, size = dt.date(2023, 2, 20), 8
    options: dict[str, Any] = {"consumer_transaction_records": size, "evaluation_sweep_s": 3600}
    fed = records(backlog())
    batches = [fed[start : start + size] for start in range(0, len(fed), size)]
    tp = TopicPartition("sanpi.projects", 0)
    # As before: each batch's projects evaluated after its transaction.
    async with milestone_service(tmp_path / "per-batch", today, **options) as per_batch:
        assert per_batch.runtime.consumer is not None
        for batch in batches:
            await per_batch.runtime.consumer.process_many(batch)
        expected = await firing(per_batch)
    assert len(expected) == 32  # R01 and R02 of the 24, less the 8 cancelled
    url = await another_database()
    async with milestone_service(tmp_path / "caught-up", today, database_url=url, **options) as svc:
        consumer = svc.runtime.consumer
        assert consumer is not None
        before = passes()
        for n, batch in enumerate(batches):
            waiting = len(fed) - (n + 1) * size  # the last one leaves none: caught up
            await consumer.apply_fetched({tp: batch}, waiting=waiting)
            if waiting >= size:
                # Catching up: the batch only marked its projects.
                assert passes() == before
        # One pass once caught up, each of the 24 projects once (per batch: 7 passes, 56).
        assert [a - b for a, b in zip(passes(), before, strict=True)] == [1, 24]
        assert await marks(svc) == []
        assert await firing(svc) == expected


def listings() -> list[EventData]:
    """Registered in an earlier batch: p1 updated then listed (the update loads it), p2 listed
    in two periods and again in the first (a no-op); p4 registered then listed in the batch."""
    return [
        replanned(),
        listing("p1"),
        listing("p2"),
        listing("p2").model_copy(update={"period": 2}),
        listing("p2"),
        registration("p4"),
        listing("p4"),
    ]


async def test_a_batch_lists_its_projects_without_loading_them_and_as_one_by_one(
    tmp_path: Path,
    another_database: Callable[[], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A listing changes only its project's periods: they are read and written as plain values
    # (one query, one UPDATE for the batch), not through TrackedProject objects; a project the
    # batch did load (an update) is listed on its object.
    today = dt.date(2023, 2, 20)
    quiet: dict[str, Any] = {"evaluate_on_events": False}
    first, second = records([registration("p1"), registration("p2")]), records(listings())
    async with milestone_service(tmp_path / "one-by-one", today, **quiet) as alone:
        assert alone.runtime.consumer is not None
        for record in [*first, *second]:
            assert await alone.runtime.consumer.process(record) is Outcome.PROCESSED
        expected = await contents(alone.runtime.db)
    url = await another_database()
    async with milestone_service(tmp_path / "batch", today, database_url=url, **quiet) as batch:
        await in_one_transaction(batch.runtime.consumer, first, caplog)
        loaded: list[str] = []
        # The batch runs in this task; the service's metrics refresh loads projects in its own.
        batch_task = asyncio.current_task()

        def on_load(project: TrackedProject, _context: Any) -> None:
            if asyncio.current_task() is batch_task:
                loaded.append(project.project_id)

        sa.event.listen(TrackedProject, "load", on_load)
        try:
            await in_one_transaction(batch.runtime.consumer, second, caplog)
        finally:
            sa.event.remove(TrackedProject, "load", on_load)
        assert loaded == ["p1"]
        assert await contents(batch.runtime.db) == expected
        async with batch.runtime.db.read() as session:
            rows = (await session.exec(select(TrackedProject))).all()
    assert {p.project_id: (p.periods, p.registry_version) for p in rows} == {
        "p1": ([1], 2),
        "p2": ([1, 2], 1),
        "p4": ([1], 1),
    }


async def test_the_sweep_leaves_the_marks_of_a_consumer_catching_up_to_its_own_pass(
    tmp_path: Path,
) -> None:
    # A replay's registrations marked their projects; the sweep taking them before the listings
    # mark them again evaluated each twice. Once the consumer has caught up, it evaluates them,
    # and the sweep takes again what anything else left.
    today, size = dt.date(2023, 2, 20), 8
    options: dict[str, Any] = {"consumer_transaction_records": size, "evaluation_sweep_s": 3600}
    fed = records(backlog())
    tp = TopicPartition("sanpi.projects", 0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # every mark is older
    async with milestone_service(tmp_path, today, **options) as svc:
        consumer, settings = svc.runtime.consumer, svc.runtime.settings
        assert consumer is not None
        assert isinstance(settings, MilestoneSettings)
        before = passes()
        await consumer.apply_fetched({tp: fed[:size]}, waiting=len(fed) - size)
        assert len(await marks(svc)) == size
        assert await sweep(svc.runtime, JUDGED, settings, before=later) == 0
        assert passes() == before
        assert len(await marks(svc)) == size
        await consumer.apply_fetched({tp: fed[size:]}, waiting=0)  # caught up
        assert [a - b for a, b in zip(passes(), before, strict=True)] == [1, 24]
        assert await marks(svc) == []
        async with svc.runtime.db.transaction() as uow:
            mark_due(uow, "r00", "left-by-a-crash")
        assert await sweep(svc.runtime, JUDGED, settings, before=later) == 1
        assert await marks(svc) == []
