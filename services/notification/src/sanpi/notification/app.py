"""Builds the notification app: its routes, tables, consumed topics and workers."""

from __future__ import annotations

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import Clock, ServiceSpec, SystemClock, create_service_app
from sanpi.notification.channels import ledger
from sanpi.notification.channels.robots import SECOND_S
from sanpi.notification.consumers import CONSUMED_TOPICS, build_handlers
from sanpi.notification.contacts.endpoints import router as contacts_router
from sanpi.notification.delivery import service as delivery
from sanpi.notification.delivery.endpoints import router as deliveries_router
from sanpi.notification.digests import service as digests
from sanpi.notification.digests.endpoints import router as digests_router
from sanpi.notification.escalation.endpoints import router as alerts_router
from sanpi.notification.escalation.endpoints import states_router as alert_states_router
from sanpi.notification.explain.endpoints import router as explain_router
from sanpi.notification.inbox.endpoints import router as inbox_router
from sanpi.notification.jobs import JOBS
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream.endpoints import router as stream_router
from sanpi.notification.subscriptions.endpoints import router as subscriptions_router
from sanpi.notification.supervision.endpoints import router as supervision_router


def create_app(settings: NotificationSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    clock = clock or SystemClock()
    handlers = build_handlers(settings, clock)
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi notification",
            description="Subscriptions, routing and guaranteed delivery of sanpi events and "
            "alerts: webhook, e-mail, live stream and inbox; acknowledgement, escalation and 督办 "
            "(supervision items, contact book); daily and 旬 digests.",
            routers=[
                subscriptions_router,
                digests_router,
                deliveries_router,
                stream_router,
                inbox_router,
                alerts_router,
                alert_states_router,
                explain_router,
                contacts_router,
                supervision_router,
            ],
            migrations=MIGRATIONS,
            produces=[Topic.NOTIFICATIONS],
            consumes=list(CONSUMED_TOPICS),
            handlers=handlers.as_mapping(),
            prepare=handlers.prepare,
            workers=JOBS,
            clock=clock,
            retained=[
                *delivery.retained(settings),
                *digests.retained(settings),
                ledger.retained(max(settings.robot_window_s, SECOND_S)),
            ],
        )
    )
