"""Events the registry consumes: the stage projection follows the milestone service."""

from __future__ import annotations

from typing import Any

from sanpi.events import CloudEvent, ProjectStageChanged
from sanpi.kit import Handlers, UnitOfWork
from sanpi.registry.projects import service as projects

handlers: Handlers[Any] = Handlers()


@handlers.on(ProjectStageChanged)
async def on_stage_changed(uow: UnitOfWork, _event: CloudEvent, data: ProjectStageChanged) -> None:
    await projects.apply_stage_change(uow, data)
