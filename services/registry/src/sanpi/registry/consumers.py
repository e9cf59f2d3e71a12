"""Events the registry consumes: the stage projection follows the milestone service."""

from __future__ import annotations

from typing import Any

from sanpi.events import CloudEvent, ProjectStageChanged, Topic
from sanpi.kit import Clock, Handlers, UnitOfWork
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

    return handlers
