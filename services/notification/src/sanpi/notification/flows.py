"""The notification service's writes that reach beyond one area: what one consumed event does to
routing, alert state, the live stream, deliveries and escalation, in the consumer's unit of
work. consumers.py maps each event type to it."""

from __future__ import annotations

import datetime as dt

from sanpi.events import AlertEvent, CloudEvent, EventData
from sanpi.kit import UnitOfWork
from sanpi.notification.delivery import service as delivery
from sanpi.notification.escalation import service as escalation
from sanpi.notification.routing import service as routing
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream import service as stream


async def notify(
    uow: UnitOfWork,
    event: CloudEvent,
    data: EventData,
    *,
    settings: NotificationSettings,
    now: dt.datetime,
) -> None:
    """projection → alert state → stream log → fan-out → timers of new red notifications."""
    await routing.apply(uow, data)
    if isinstance(data, AlertEvent):
        await escalation.apply_alert(uow, event, data, now=now)
    routed = await routing.routing_of(uow, event, data)
    stream.append(uow, event, routed, now=now)
    for urgent in await delivery.fan_out(uow, event, routed, settings=settings, now=now):
        await escalation.follow(
            uow, urgent.subscription_id, urgent.alert_key, now=now, settings=settings
        )
