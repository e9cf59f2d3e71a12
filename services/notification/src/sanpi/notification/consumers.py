"""Events the notification service consumes: every sanpi event may match a subscription."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanpi.events import EVENT_TYPES, CloudEvent, EventData, Topic
from sanpi.kit import Clock, Handlers, UnitOfWork
from sanpi.notification import flows
from sanpi.notification.routing import service as routing
from sanpi.notification.settings import NotificationSettings

CONSUMED_TOPICS = (Topic.PROJECTS, Topic.MILESTONES, Topic.ALERTS)


def build_handlers(settings: NotificationSettings, clock: Clock) -> Handlers[Any]:
    """One handler for every event type of the consumed topics, in one transaction each: the
    flow that notifies (flows.notify)."""
    handlers: Handlers[Any] = Handlers()

    async def on_event(uow: UnitOfWork, event: CloudEvent, data: EventData) -> None:
        await flows.notify(uow, event, data, settings=settings, now=clock.now())

    @handlers.before_batch
    async def prepare(uow: UnitOfWork, batch: Sequence[EventData]) -> None:
        await routing.prefetch(uow, batch)

    for model in EVENT_TYPES.values():
        if model.TOPIC in CONSUMED_TOPICS:
            handlers.on(model)(on_event)
    return handlers
