"""Events the notification service consumes: every sanpi event may match a subscription."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import EVENT_TYPES, CloudEvent
from sanpi.kit import Handlers
from sanpi.notification.delivery import service as delivery

handlers: Handlers[Any] = Handlers()


async def on_any_event(session: AsyncSession, event: CloudEvent, _data: Any) -> None:
    await delivery.fan_out(session, event)


for _model in EVENT_TYPES.values():
    handlers.on(_model)(on_any_event)
