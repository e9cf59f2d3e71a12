"""Builds the registry app: its routes, tables, the topics it writes and the events it consumes."""

from __future__ import annotations

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import Clock, ServiceSpec, SystemClock, create_service_app
from sanpi.registry.consumers import CONSUMED_TOPICS, build_handlers
from sanpi.registry.imports.endpoints import router as imports_router
from sanpi.registry.indicators.endpoints import router as indicators_router
from sanpi.registry.jobs import JOBS
from sanpi.registry.listings.endpoints import router as listings_router
from sanpi.registry.migrations import MIGRATIONS
from sanpi.registry.periods.endpoints import router as periods_router
from sanpi.registry.projects.endpoints import parks_router
from sanpi.registry.projects.endpoints import router as projects_router
from sanpi.registry.settings import RegistrySettings
from sanpi.registry.targets.endpoints import router as targets_router

# The boundary lines and part headers around the file: a few hundred bytes; 64 KiB is generous.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    clock = clock or SystemClock()
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi registry",
            description="Projects of the 三个一批 campaign: master data, periods, listings, targets.",
            # /projects/import and /projects/export before /projects/{project_id}.
            routers=[
                imports_router,
                projects_router,
                parks_router,
                listings_router,
                periods_router,
                targets_router,
                indicators_router,
            ],
            migrations=MIGRATIONS,
            produces=[Topic.PROJECTS],
            consumes=list(CONSUMED_TOPICS),
            handlers=build_handlers(settings, clock).as_mapping(),
            workers=JOBS,
            # A sheet upload may be import_max_bytes (32 MiB), plus its multipart framing.
            body_limits=[
                (r"^/v1/projects/import$", settings.import_max_bytes + MULTIPART_OVERHEAD_BYTES)
            ],
            clock=clock,
        )
    )
