"""Builds the notification app: its routes, tables, consumed topics and the delivery worker."""

from __future__ import annotations

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import ServiceSpec, create_service_app
from sanpi.notification.consumers import handlers
from sanpi.notification.delivery.endpoints import router as deliveries_router
from sanpi.notification.delivery.models import Delivery, DeliveryAttempt
from sanpi.notification.delivery.worker import run_delivery_worker
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions.endpoints import router as subscriptions_router
from sanpi.notification.subscriptions.models import Subscription


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi notification",
            description="Subscriptions and guaranteed delivery of sanpi events and alerts.",
            routers=[subscriptions_router, deliveries_router],
            tables=[Subscription, Delivery, DeliveryAttempt],
            produces=[Topic.NOTIFICATIONS],
            consumes=[Topic.PROJECTS, Topic.MILESTONES, Topic.ALERTS],
            handlers=handlers.as_mapping(),
            workers=[run_delivery_worker],
        )
    )
