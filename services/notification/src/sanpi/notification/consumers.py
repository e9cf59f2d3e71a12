"""Events the notification service consumes: every sanpi event may match a subscription."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanpi.events import EVENT_TYPES, AlertEvent, CloudEvent, EventData, Topic
from sanpi.kit import Clock, Handlers, UnitOfWork
from sanpi.notification.delivery import service as delivery
from sanpi.notification.escalation import service as escalation
from sanpi.notification.routing import service as routing
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream import service as stream

CONSUMED_TOPICS = (Topic.PROJECTS, Topic.MILESTONES, Topic.ALERTS)


def build_handlers(settings: NotificationSettings, clock: Clock) -> Handlers[Any]:
    """One handler for every event type of the consumed topics, in one transaction each:
    projection → alert state → stream log → fan-out → timers of new red notifications."""
    handlers: Handlers[Any] = Handlers()

    async def on_event(uow: UnitOfWork, event: CloudEvent, data: EventData) -> None:
        now = clock.now()
        await routing.apply(uow, data)
        if isinstance(data, AlertEvent):
            await escalation.apply_alert(uow, event, data, now=now)
        routed = await routing.routing_of(uow, event, data)
        stream.append(uow, event, routed, now=now)
        for urgent in await delivery.fan_out(uow, event, routed, settings=settings, now=now):
            await escalation.follow(
                uow, urgent.subscription_id, urgent.alert_key, now=now, settings=settings
            )

    @handlers.before_batch
    async def prepare(uow: UnitOfWork, batch: Sequence[EventData]) -> None:
        await routing.prefetch(uow, batch)

    for model in EVENT_TYPES.values():
        if model.TOPIC in CONSUMED_TOPICS:
            handlers.on(model)(on_event)
    return handlers
