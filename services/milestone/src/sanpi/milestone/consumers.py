"""Events the milestone service consumes: the registry's projects become tracked projects."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, ProjectRegistered
from sanpi.kit import Handlers
from sanpi.milestone.lifecycle import service as lifecycle

handlers: Handlers[Any] = Handlers()


@handlers.on(ProjectRegistered)
async def on_registered(session: AsyncSession, _event: CloudEvent, data: ProjectRegistered) -> None:
    await lifecycle.track(session, data)
