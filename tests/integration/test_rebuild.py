"""sanpi-admin rebuild over the real broker (issue 26 item 3): the services' own consumers build
their projections from a topic of the test's own; the projections are then spoiled, the
service stopped, and the bulk rebuild must give back exactly what the consumers built (every
projection table compared row for row and by digest), leave the service's own data alone, and
set the group to resume at the end of the replay. A rebuild is refused while the group has a
member."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, inspect, select, text
from sqlmodel import col
from typer.testing import CliRunner

from sanpi.admin import rebuild as command
from sanpi.admin.cli import app as admin_app
from sanpi.events import (
    BatchType,
    CancelReason,
    EventData,
    ProgressReported,
    ProjectCancelled,
    ProjectListed,
    ProjectRegistered,
    ProjectStageChanged,
    ProjectUpdated,
    ReportPeriodKind,
    Stage,
    TargetKind,
    TargetSet,
    Topic,
)
from sanpi.kit import FixedClock, ServiceSettings
from sanpi.kit.db import Database
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.kafka import ensure_topics
from sanpi.kit.offsets import committed, topic_ends
from sanpi.kit.rebuild import SHADOW_PREFIX, Rebuilt, ServiceRunning
from sanpi.milestone import rebuild as milestone_rebuild
from sanpi.milestone.consumers import build_handlers as milestone_handlers
from sanpi.milestone.migrations import MIGRATIONS as MILESTONE
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification import rebuild as notification_rebuild
from sanpi.notification.consumers import build_handlers as notification_handlers
from sanpi.notification.migrations import MIGRATIONS as NOTIFICATION
from sanpi.notification.settings import NotificationSettings
from sanpi.registry import rebuild as registry_rebuild
from sanpi.registry.consumers import build_handlers as registry_handlers
from sanpi.registry.migrations import MIGRATIONS as REGISTRY
from sanpi.registry.projects.models import Project
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Broker
from tests.integration.test_projection_order import consuming, options, records
from tests.support.kafka import produce
from tests.support.milestone import at
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka

CLOCK = FixedClock(at(dt.date(2024, 7, 1)))


def table(model: Any) -> Table:
    found: Table = model.__table__
    return found


async def rows_of(db: Database, live: Table, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    keys = [c.name for c in live.primary_key.columns]
    stmt = select(*(live.c[n] for n in columns)).order_by(*(live.c[k] for k in keys))
    async with db.read() as session:
        return [tuple(row) for row in (await session.execute(stmt)).all()]


def digest(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]


async def snapshot(
    db: Database, wanted: Mapping[Table, Sequence[str]]
) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    """Table → (digest, rows) of the given columns, in primary-key order."""
    out = {}
    for live, names in wanted.items():
        found = await rows_of(db, live, names)
        out[live.name] = (digest(found), found)
    return out


async def until_applied(db: Database, group: str, count: int) -> None:
    async def done() -> bool:
        async with db.read() as session:
            stmt = select(func.count()).where(col(ProcessedEvent.consumer) == group)
            return int((await session.execute(stmt)).scalar_one()) >= count

    await eventually(done, what=f"{count} events applied by {group}", timeout=90)


async def shadows(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return [n for n in names if n.startswith(SHADOW_PREFIX)]


async def resumes_at_end(broker: Broker, group: str, topic: str) -> bool:
    return await committed(broker.bootstrap, group) == await topic_ends(broker.bootstrap, [topic])


def columns(model: Any, *, without: Sequence[str] = ("updated_at",)) -> list[str]:
    return [c.name for c in table(model).columns if c.name not in without]


async def test_the_registry_rebuild_gives_back_the_consumers_stage_and_funds(
    kafka_broker: Broker, tmp_path: Path, another_database: Callable[[], Awaitable[str]]
) -> None:
    from sanpi.registry.indicators.models import FundsReport

    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    signed = Project(name="雄韬氢能", park="梧桐", total_investment=150_000, created_by="it")
    started = Project(
        name="豫园二期",
        park="石佛",
        total_investment=90_000,
        created_by="it",
        initial_stage=Stage.UNDER_CONSTRUCTION,
        stage=Stage.UNDER_CONSTRUCTION,
        started_date=dt.date(2023, 2, 1),
    )

    def change(
        project: Project, before: Stage, after: Stage, day: dt.date, version: int, reason: str
    ) -> ProjectStageChanged:
        return ProjectStageChanged(
            project_id=project.id,
            from_stage=before,
            to_stage=after,
            effective_date=day,
            reason=reason,
            changed_by="operator",
            version=version,
        )

    def report(project: Project, period: str, funds: int | None) -> ProgressReported:
        return ProgressReported(
            project_id=project.id,
            report_id=str(uuid.uuid4()),
            period_kind=ReportPeriodKind.XUN,
            period_key=period,
            completed_investment_cum=1_000,
            completed_investment_ytd=1_000,
            funds_arrived_cum=funds,
            reported_by="operator",
        )

    s, f, u, p = Stage.SIGNED, Stage.FULFILLING, Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION
    story: list[EventData] = [
        change(signed, s, f, dt.date(2023, 1, 5), 1, "MILESTONE"),
        report(signed, "2023-01-X1", 100),
        change(signed, f, u, dt.date(2023, 3, 1), 2, "MILESTONE"),
        report(signed, "2023-03-X1", 500),
        report(signed, "2023-03-X1", 450),  # the same period corrected: replaces
        change(signed, u, p, dt.date(2024, 6, 30), 4, "MILESTONE"),
        change(signed, f, u, dt.date(2023, 3, 2), 3, "MILESTONE"),  # late: fills nothing
        report(signed, "2023-03-X2", None),  # no funds figure: nothing
        change(started, u, p, dt.date(2024, 1, 10), 1, "MILESTONE"),
        change(started, p, u, dt.date(2024, 2, 1), 2, "CORRECTION"),  # un-reaches production
        report(started, "2024-02-X1", 7_000),
        change(signed, s, u, dt.date(2023, 1, 1), 1, "MILESTONE"),  # stale, date known: nothing
    ]
    values = records(*story, source="/sanpi/milestone")[1]
    url = await another_database()
    settings = RegistrySettings(**options(tmp_path, "registry", url, kafka_broker))
    wanted = {
        table(Project): ["id", *registry_rebuild.STAGE_COLUMNS],
        table(FundsReport): columns(FundsReport, without=()),
    }
    own = {table(Project): columns(Project, without=registry_rebuild.STAGE_COLUMNS)}
    handlers = registry_handlers(settings, CLOCK)

    async def rebuild_registry() -> Rebuilt:
        return await command.run(
            "registry",
            command.chosen("registry", None),
            database_url=url,
            bootstrap=kafka_broker.bootstrap,
            group=settings.group_id,
            topics={Topic.MILESTONES.value: topic},
        )

    async with consuming(settings, REGISTRY, topic, handlers, set()) as registry:
        async with registry.db.transaction() as uow:
            uow.session.add(signed)
            uow.session.add(started)
        for data, value in zip(story, values, strict=True):
            # Keyed by project, as the milestone service publishes: one partition each.
            key = data.project_id.encode()  # type: ignore[attr-defined]
            await produce(kafka_broker.bootstrap, topic, [value], key=key)
        await until_applied(registry.db, settings.group_id, len(values))
        db = registry.db
        live = await snapshot(db, wanted)
        kept = await snapshot(db, own)

        with pytest.raises(ServiceRunning, match="服务仍在运行"):
            await rebuild_registry()
    stages = {row[0]: row[1:] for row in live["project"][1]}
    assert stages == {
        signed.id: (p, 4, dt.date(2023, 1, 5), dt.date(2023, 3, 1), dt.date(2024, 6, 30), None),
        started.id: (u, 2, None, dt.date(2023, 2, 1), None, None),
    }, "the consumer built the projection the story tells"
    assert sorted(row[3] for row in live["funds_report"][1]) == [100, 450, 7_000]

    db = Database(url)
    try:
        assert await shadows(db) == [], "the refused rebuild left nothing behind"
        # The projection goes wrong (a bad migration, a bug since fixed): every stage back to
        # signed, the days gone (but the start day a project registered under construction
        # declared: that is the registry's own data, kept in the same column), the funds gone.
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE project SET stage = 'SIGNED', stage_version = 0, production_date = "
                    "NULL, fulfilled_date = NULL, started_date = CASE WHEN initial_stage = "
                    "'UNDER_CONSTRUCTION' THEN started_date END"
                )
            )
            await conn.execute(text("DELETE FROM funds_report"))
        assert await snapshot(db, wanted) != live

        done = await rebuild_registry()
        assert done.progress.total == len(values)
        assert done.rows == {"stage": 2, "funds": 3}
        rebuilt = await snapshot(db, wanted)
        assert rebuilt == live, "every row of the projection, and so its digest"
        assert await snapshot(db, own) == kept, "the registry's own data is untouched"
        assert await shadows(db) == []
        assert await resumes_at_end(kafka_broker, settings.group_id, topic)
    finally:
        await db.dispose()


async def test_the_milestone_and_notification_rebuilds_give_back_their_consumers_projections(
    kafka_broker: Broker, tmp_path: Path, another_database: Callable[[], Awaitable[str]]
) -> None:
    from sanpi.milestone.lifecycle.models import StageChange, TrackedProject
    from sanpi.milestone.rules.models import EvaluationDue, PortfolioTarget
    from sanpi.notification.routing.models import ProjectView

    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    one, two, three = (str(uuid.uuid4()) for _ in range(3))

    def registered(pid: str, name: str, **more: Any) -> ProjectRegistered:
        return ProjectRegistered(
            project_id=pid,
            version=1,
            name=name,
            park="梧桐",
            total_investment=150_000,
            stage=more.pop("stage", Stage.SIGNED),
            signed_date=dt.date(2024, 3, 1),
            **more,
        )

    def updated(pid: str, version: int, **changes: Any) -> ProjectUpdated:
        return ProjectUpdated(
            project_id=pid,
            version=version,
            name=changes.pop("name", "x"),
            park=changes.pop("park", "梧桐"),
            total_investment=changes.pop("total_investment", 150_000),
            signed_date=dt.date(2024, 3, 1),
            changed=["name"],
            **changes,
        )

    def listed(pid: str, period: int) -> ProjectListed:
        return ProjectListed(
            project_id=pid,
            period=period,
            batch=BatchType.SIGN,
            event_date=dt.date(2024, 3, 1),
            listed_total_investment=120_000,
            listed_by="it",
        )

    def target(kind: TargetKind, value: int) -> TargetSet:
        return TargetSet(year=2024, scope="梧桐", kind=kind, value=value, set_by="it")

    story: list[tuple[str, EventData]] = [
        (one, registered(one, "一期", is_manufacturing=True)),
        (one, updated(one, 2, name="二期", is_manufacturing=True)),
        (one, listed(one, 3)),
        (one, listed(one, 3)),  # again: a set
        (one, listed(one, 5)),
        (two, registered(two, "豫园", stage=Stage.UNDER_CONSTRUCTION)),
        (two, updated(two, 3, name="豫园三", park="石佛")),
        (two, updated(two, 2, name="豫园二")),  # late: an older snapshot changes nothing
        (
            two,
            ProjectCancelled(
                project_id=two,
                version=4,
                reason_code=CancelReason.POLICY,
                reason="政策调整",
                effective_date=dt.date(2024, 6, 1),
                cancelled_by="it",
            ),
        ),
        (three, listed(three, 4)),  # before its registration: the view starts from it
        (three, registered(three, "三号")),
        ("t", target(TargetKind.SIGN_AMOUNT, 1_000_000)),
        ("t", target(TargetKind.SIGN_AMOUNT, 1_200_000)),  # the latest wins
        ("t", target(TargetKind.MFG_SIGN_AMOUNT, 400_000)),
    ]
    events, values = records(*(data for _key, data in story), source="/sanpi/registry")
    milestone_url, notification_url = await another_database(), await another_database()
    ms = MilestoneSettings(**options(tmp_path, "milestone", milestone_url, kafka_broker))
    ns = NotificationSettings(**options(tmp_path, "notification", notification_url, kafka_broker))
    milestone_wanted = {
        # Every column of the tracked projects but updated_at: the projection's and the service's
        # own (stage, its days and versions), which the rebuild must leave as they are.
        table(TrackedProject): columns(TrackedProject),
        table(PortfolioTarget): columns(PortfolioTarget),
    }
    own_wanted = {table(StageChange): columns(StageChange, without=("recorded_at",))}
    notification_wanted = {table(ProjectView): columns(ProjectView, without=())}
    async with (
        consuming(ms, MILESTONE, topic, milestone_handlers(ms, CLOCK), set()) as milestone,
        consuming(ns, NOTIFICATION, topic, notification_handlers(ns, CLOCK), set()) as notif,
    ):
        for (key, _data), value in zip(story, values, strict=True):
            await produce(kafka_broker.bootstrap, topic, [value], key=key.encode())
        await until_applied(milestone.db, ms.group_id, len(values))
        await until_applied(notif.db, ns.group_id, len(values))
        milestone_live = await snapshot(milestone.db, milestone_wanted)
        milestone_own = await snapshot(milestone.db, own_wanted)
        notification_live = await snapshot(notif.db, notification_wanted)
        with pytest.raises(ServiceRunning):
            await command.run(
                "notification",
                command.chosen("notification", ["project_view"]),
                database_url=notification_url,
                bootstrap=kafka_broker.bootstrap,
                group=ns.group_id,
                topics={Topic.PROJECTS.value: topic},
            )
    assert len(events) == len(values)
    views = {row[0]: row for row in notification_live["notification_project_view"][1]}
    assert views[three][1:3] == (1, "三号")
    assert views[three][7] == [4]
    tracked = {row[0]: row for row in milestone_live["tracked_project"][1]}
    assert tracked[one][1] == "二期"
    assert tracked[two][1] == "豫园三"
    assert len(milestone_live["portfolio_target"][1]) == 2

    spoil = {
        milestone_url: [
            "UPDATE tracked_project SET name = 'wrong', park = 'wrong', registry_version = 0",
            "DELETE FROM portfolio_target",
            "DELETE FROM evaluation_due",
        ],
        notification_url: ["DELETE FROM notification_project_view"],
    }
    for service, url, group, wanted, live in (
        ("milestone", milestone_url, ms.group_id, milestone_wanted, milestone_live),
        ("notification", notification_url, ns.group_id, notification_wanted, notification_live),
    ):
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                for statement in spoil[url]:
                    await conn.execute(text(statement))
            assert await snapshot(db, wanted) != live
            done = await command.run(
                service,
                command.chosen(service, None),
                database_url=url,
                bootstrap=kafka_broker.bootstrap,
                group=group,
                topics={Topic.PROJECTS.value: topic},
            )
            assert done.progress.total == len(values)
            rebuilt = await snapshot(db, wanted)
            assert rebuilt == live, f"{service}: every row of the projections, and their digests"
            assert await shadows(db) == []
            assert await resumes_at_end(kafka_broker, group, topic)
            if service == "milestone":
                assert await snapshot(db, own_wanted) == milestone_own
                due = await rows_of(db, table(EvaluationDue), ["project_id"])
                assert sorted(r[0] for r in due) == sorted([one, two, three]), (
                    "the projects whose data the rebuild changed are due for evaluation"
                )
                # Again with one project wrong: the swap compares in SQL (periods as JSON
                # included), and marks and rewrites that one alone.
                async with db.engine.begin() as conn:
                    await conn.execute(text("DELETE FROM evaluation_due"))
                    await conn.execute(
                        text("UPDATE tracked_project SET park = 'wrong' WHERE project_id = :p"),
                        {"p": two},
                    )
                again = await command.run(
                    service,
                    command.chosen(service, ["tracked"]),
                    database_url=url,
                    bootstrap=kafka_broker.bootstrap,
                    group=group,
                    topics={Topic.PROJECTS.value: topic},
                )
                assert again.rows["tracked"] == 3
                assert await snapshot(db, wanted) == live
                due = await rows_of(db, table(EvaluationDue), ["project_id"])
                assert [r[0] for r in due] == [two]
        finally:
            await db.dispose()


def test_the_command_refuses_while_a_consumer_of_the_group_is_active(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    """Through the command line: a member in the group, exit 1, the reason in Chinese first."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    group = f"itest-{uuid.uuid4().hex[:8]}"
    url = f"sqlite+aiosqlite:///{tmp_path}/notification.db"

    async def main() -> Any:
        settings = ServiceSettings(data_dir=tmp_path, kafka_bootstrap=kafka_broker.bootstrap)
        await ensure_topics(settings, [topic])
        member = AIOKafkaConsumer(topic, bootstrap_servers=kafka_broker.bootstrap, group_id=group)
        await member.start()
        try:
            await eventually(lambda: bool(member.assignment()), what="assigned", timeout=60)
            return await asyncio.to_thread(
                CliRunner().invoke,
                admin_app,
                [
                    "rebuild",
                    "notification",
                    "--database-url",
                    url,
                    "--bootstrap",
                    kafka_broker.bootstrap,
                    "--group",
                    group,
                    "--topic",
                    f"{Topic.PROJECTS.value}={topic}",
                ],
            )
        finally:
            await member.stop()

    result = asyncio.run(main())
    assert result.exit_code == 1, result.output
    assert "服务仍在运行" in result.output
    assert group in result.output
    assert "stop every replica first" in result.output


def test_the_projection_table_of_the_command_names_the_services_projections() -> None:
    for service, module in (
        ("registry", registry_rebuild),
        ("milestone", milestone_rebuild),
        ("notification", notification_rebuild),
    ):
        assert [p.name for p in module.projections()] == list(command.PROJECTIONS[service])
