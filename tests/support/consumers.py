"""A bare runtime that only consumes (no routes, no migrations) and the records tests feed it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sanpi.events import CloudEvent, ProjectRegistered, Stage, build_record
from sanpi.kit import KIT_TABLES, Handlers, ServiceSettings, ServiceSpec, UnitOfWork
from sanpi.kit.app import Runtime


def registration(project_id: str, name: str = "ok") -> bytes:
    """The Kafka record value of a valid ProjectRegistered event."""
    data = ProjectRegistered(
        project_id=project_id,
        version=1,
        name=name,
        park="梧桐",
        total_investment=1,
        stage=Stage.SIGNED,
    )
    return build_record(data, source="/itest")[1].value


async def consuming_runtime(
    settings: ServiceSettings, topic: str, handlers: Handlers[Any]
) -> Runtime:
    """A runtime that consumes `topic` with `handlers`; its inbox table is created here, since
    it has no migration history of its own. Not started."""
    runtime = Runtime(
        ServiceSpec(
            settings=settings,
            title="t",
            description="t",
            routers=[],
            migrations=None,
            consumes=[topic],
            handlers=handlers.as_mapping(),
        )
    )
    await runtime.db.create_all(list(KIT_TABLES))
    return runtime


def recording_handlers() -> tuple[Handlers[Any], list[str]]:
    """Handlers that note the project id of each ProjectRegistered applied, and that list."""
    applied: list[str] = []
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectRegistered)
    async def on_registered(_uow: UnitOfWork, _e: CloudEvent, data: ProjectRegistered) -> None:
        applied.append(data.project_id)

    return handlers, applied


def consumer_settings(
    tmp_path: Path, database_url: str, bootstrap: str, **overrides: Any
) -> ServiceSettings:
    """Settings of a consuming runtime in a consumer group of its own."""
    return ServiceSettings(
        data_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        consumer_group=f"itest-{uuid.uuid4().hex[:8]}",
        **overrides,
    )
