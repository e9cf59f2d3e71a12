"""Projections never go back in time, over the real broker: an event dead-lettered by one service,
applied by none, then redriven after a newer one of the same project, changes nothing it should
not (issue 20 item 2). The services' own handlers and schemas consume a topic of the test's own
with the kit's consumer loop; the records are the ones their producers publish."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from sanpi.events import (
    CloudEvent,
    EventData,
    ProjectRegistered,
    ProjectStageChanged,
    ProjectUpdated,
    Stage,
    build_record,
    dead_letter_topic,
)
from sanpi.kit import FixedClock, Handlers, Migrations, ServiceSettings, ServiceSpec, UnitOfWork
from sanpi.kit.app import Runtime
from sanpi.kit.consumer import Handler
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.redrive import redrive
from sanpi.milestone.consumers import build_handlers as milestone_handlers
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.migrations import MIGRATIONS as MILESTONE
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.consumers import build_handlers as notification_handlers
from sanpi.notification.migrations import MIGRATIONS as NOTIFICATION
from sanpi.notification.routing.models import ProjectView
from sanpi.notification.settings import NotificationSettings
from sanpi.registry.consumers import build_handlers as registry_handlers
from sanpi.registry.migrations import MIGRATIONS as REGISTRY
from sanpi.registry.projects.models import Project
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Broker
from tests.support.kafka import produce, read_until
from tests.support.milestone import at
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka


def failing_on(mapping: Mapping[str, Handler], poisoned: set[str]) -> dict[str, Handler]:
    """The handlers, raising for the event ids in `poisoned` (a bug, fixed by emptying it)."""

    def wrap(handler: Handler) -> Handler:
        async def handle(uow: UnitOfWork, event: CloudEvent, data: Any) -> None:
            if event.id in poisoned:
                raise RuntimeError("a bug in the handler")
            await handler(uow, event, data)

        return handle

    return {event_type: wrap(handler) for event_type, handler in mapping.items()}


@asynccontextmanager
async def consuming(
    settings: ServiceSettings,
    migrations: Migrations,
    topic: str,
    handlers: Handlers[Any],
    poisoned: set[str],
) -> AsyncIterator[Runtime]:
    """A service's consumer (its handlers, its schema) on `topic`, started until the block ends."""
    runtime = Runtime(
        ServiceSpec(
            settings=settings,
            title="t",
            description="t",
            routers=[],
            migrations=migrations,
            consumes=[topic],
            handlers=failing_on(handlers.as_mapping(), poisoned),
            prepare=handlers.prepare,
            caught_up=handlers.caught_up,
            clock=FixedClock(at(dt.date(2024, 7, 1))),
        )
    )
    await runtime.start()
    try:
        assert runtime.consumer is not None
        await eventually(runtime.consumer.assigned.is_set, what="partitions assigned", timeout=60)
        yield runtime
    finally:
        await runtime.stop()


def options(
    tmp_path: Path, name: str, database_url: str, broker: Broker, **more: Any
) -> dict[str, Any]:
    (tmp_path / name).mkdir()
    return {
        "data_dir": tmp_path / name,
        "database_url": database_url,
        "kafka_bootstrap": broker.bootstrap,
        "consumer_group": f"itest-{name}-{uuid.uuid4().hex[:8]}",
        "consumer_max_attempts": 2,
        "consumer_backoff_ms": 20,
        **more,
    }


def records(*events: EventData, source: str) -> tuple[list[CloudEvent], list[bytes]]:
    built = [build_record(data, source=source) for data in events]
    return [event for event, _record in built], [record.value for _event, record in built]


async def applied(runtime: Runtime, event_id: str) -> bool:
    """Whether the service's consumer has the event in its inbox (processed)."""
    async with runtime.db.read() as session:
        stmt = select(ProcessedEvent.event_id).where(
            col(ProcessedEvent.consumer) == runtime.settings.group_id,
            col(ProcessedEvent.event_id) == event_id,
        )
        return (await session.exec(stmt)).first() is not None


async def dead_letters_of(broker: Broker, topic: str, count: int) -> None:
    await read_until(broker.bootstrap, dead_letter_topic(topic), lambda rs: len(rs) >= count)


async def until(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    await eventually(probe, what=what, timeout=60)


async def test_a_redriven_start_after_production_leaves_the_registry_in_production(
    kafka_broker: Broker, tmp_path: Path, another_database: Callable[[], Awaitable[str]]
) -> None:
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    project = Project(name="雄韬氢能产业园", park="梧桐", total_investment=150_000, created_by="it")
    started, produced = (
        ProjectStageChanged(
            project_id=project.id,
            from_stage=before,
            to_stage=after,
            effective_date=day,
            reason="MILESTONE",
            changed_by="operator",
            version=version,
        )
        for before, after, day, version in (
            (Stage.SIGNED, Stage.UNDER_CONSTRUCTION, dt.date(2023, 3, 1), 1),
            (Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION, dt.date(2024, 6, 30), 2),
        )
    )
    events, values = records(started, produced, source="/sanpi/milestone")
    poisoned = {events[0].id}
    settings = RegistrySettings(
        **options(tmp_path, "registry", await another_database(), kafka_broker)
    )
    handlers = registry_handlers(settings, FixedClock(at(dt.date(2024, 7, 1))))
    async with consuming(settings, REGISTRY, topic, handlers, poisoned) as registry:
        async with registry.db.transaction() as uow:
            session = uow.session
            session.add(project)

        async def stage() -> tuple[Stage, dt.date | None, dt.date | None]:
            async with registry.db.read() as session:
                row = await session.get(Project, project.id)
                assert row is not None
                return row.stage, row.started_date, row.production_date

        await produce(kafka_broker.bootstrap, topic, values, key=project.id.encode())
        await dead_letters_of(kafka_broker, topic, 1)  # STARTED: the registry gave up on it
        await until(lambda: applied(registry, events[1].id), "PRODUCING applied")
        assert await stage() == (Stage.IN_PRODUCTION, None, dt.date(2024, 6, 30))

        poisoned.clear()  # the fix is deployed; the dead letter is redriven
        result = await redrive(kafka_broker.bootstrap, dead_letter_topic(topic))
        assert [letter.offset for letter in result.replayed] == [0]
        await until(lambda: applied(registry, events[0].id), "the redriven STARTED applied")
        assert await stage() == (
            Stage.IN_PRODUCTION,
            dt.date(2023, 3, 1),
            dt.date(2024, 6, 30),
        ), "still in production, and now with the day construction started"


async def test_a_late_master_data_update_leaves_the_newer_in_milestone_and_notification(
    kafka_broker: Broker, tmp_path: Path, another_database: Callable[[], Awaitable[str]]
) -> None:
    topic = f"sanpi.itest.{uuid.uuid4().hex[:8]}"
    project_id = str(uuid.uuid4())
    master: dict[str, Any] = {"project_id": project_id, "total_investment": 150_000}
    events, values = records(
        ProjectRegistered(**master, version=1, name="一期", park="梧桐", stage=Stage.SIGNED),
        ProjectUpdated(**master, version=2, name="二期", park="石佛", changed=["name", "park"]),
        ProjectUpdated(**master, version=3, name="三期", park="梧桐", changed=["name", "park"]),
        source="/sanpi/registry",
    )
    poisoned = {events[1].id}  # version 2: both services give up on it
    milestone_settings = MilestoneSettings(
        **options(
            tmp_path, "milestone", await another_database(), kafka_broker, evaluation_interval_s=0
        )
    )
    notification_settings = NotificationSettings(
        **options(tmp_path, "notification", await another_database(), kafka_broker)
    )
    clock = FixedClock(at(dt.date(2024, 7, 1)))
    async with AsyncExitStack() as stack:
        milestone = await stack.enter_async_context(
            consuming(
                milestone_settings,
                MILESTONE,
                topic,
                milestone_handlers(milestone_settings, clock),
                poisoned,
            )
        )
        notification = await stack.enter_async_context(
            consuming(
                notification_settings,
                NOTIFICATION,
                topic,
                notification_handlers(notification_settings, clock),
                poisoned,
            )
        )
        runtimes = (milestone, notification)

        async def all_applied(event_ids: Iterable[str]) -> bool:
            return all([await applied(r, e) for r in runtimes for e in event_ids])

        async def held() -> list[tuple[str | None, str | None, int]]:
            async with milestone.db.read() as session:
                tracked = await session.get(TrackedProject, project_id)
            async with notification.db.read() as session:
                view = await session.get(ProjectView, project_id)
            assert tracked is not None
            assert view is not None
            return [
                (tracked.name, tracked.park, tracked.registry_version),
                (view.name, view.park, view.version),
            ]

        await produce(kafka_broker.bootstrap, topic, values, key=project_id.encode())
        await dead_letters_of(kafka_broker, topic, 2)
        await until(lambda: all_applied([events[0].id, events[2].id]), "v1 and v3 applied")
        assert await held() == [("三期", "梧桐", 3)] * 2

        poisoned.clear()
        result = await redrive(kafka_broker.bootstrap, dead_letter_topic(topic))
        assert len(result.replayed) == 2  # one dead letter of each consumer group
        await until(lambda: all_applied([events[1].id]), "the redriven version 2 consumed")
        assert await held() == [("三期", "梧桐", 3)] * 2, "version 2 came late: nothing moved"
