"""Builds the registry app: its routes, tables, the topics it writes and the events it consumes."""

from __future__ import annotations

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import ServiceSpec, create_service_app
from sanpi.registry.consumers import handlers
from sanpi.registry.projects.endpoints import router as projects_router
from sanpi.registry.projects.models import Project
from sanpi.registry.settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi registry",
            description="Projects of the 三个一批 campaign: master data, periods, listings, targets.",
            routers=[projects_router],
            tables=[Project],
            produces=[Topic.PROJECTS],
            consumes=[Topic.MILESTONES],
            handlers=handlers.as_mapping(),
        )
    )
