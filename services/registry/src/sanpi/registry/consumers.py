"""Events the registry consumes: the stage and funds projections follow the milestone service."""

from __future__ import annotations

from typing import Any

from sanpi.events import CloudEvent, ProgressReported, ProjectStageChanged, Topic
from sanpi.kit import Clock, Handlers, UnitOfWork
from sanpi.registry.indicators import service as indicators
from sanpi.registry.projects import service as projects
from sanpi.registry.settings import RegistrySettings

CONSUMED_TOPICS = (Topic.MILESTONES,)


def build_handlers(_settings: RegistrySettings, _clock: Clock) -> Handlers[Any]:
    """The handlers, by event type (the same form in every service's consumers.py)."""
    handlers: Handlers[Any] = Handlers()

    @handlers.on(ProjectStageChanged)
    async def on_stage_changed(
        uow: UnitOfWork, _event: CloudEvent, data: ProjectStageChanged
    ) -> None:
        await projects.apply_stage_change(uow, data)

    @handlers.on(ProgressReported)
    async def on_progress_reported(
        uow: UnitOfWork, _event: CloudEvent, data: ProgressReported
    ) -> None:
        await indicators.apply_funds(uow, data)

    return handlers
