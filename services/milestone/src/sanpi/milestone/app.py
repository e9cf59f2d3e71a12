"""Builds the milestone app: its routes, tables, the topics it writes and the events it consumes."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import Clock, ServiceSpec, SystemClock, create_service_app
from sanpi.kit.app import Worker
from sanpi.milestone.assigned.endpoints import router as assigned_router
from sanpi.milestone.bulletins.endpoints import router as bulletins_router
from sanpi.milestone.consumers import CONSUMED_TOPICS, build_handlers
from sanpi.milestone.evidence.endpoints import files_router as evidence_files_router
from sanpi.milestone.evidence.endpoints import router as evidence_router
from sanpi.milestone.jobs import JOBS
from sanpi.milestone.lifecycle.endpoints import router as lifecycle_router
from sanpi.milestone.migrations import MIGRATIONS
from sanpi.milestone.nodes.endpoints import router as milestones_router
from sanpi.milestone.progress.endpoints import batch_router as progress_batch_router
from sanpi.milestone.progress.endpoints import router as progress_router
from sanpi.milestone.report_sheets.endpoints import router as report_sheets_router
from sanpi.milestone.rules.endpoints import router as rules_router
from sanpi.milestone.settings import MilestoneSettings
from sanpi.milestone.summaries.endpoints import router as summaries_router
from sanpi.milestone.timeline.endpoints import router as timeline_router


def create_app(
    settings: MilestoneSettings | None = None,
    clock: Clock | None = None,
    *,
    jobs: Sequence[Worker] = JOBS,
) -> FastAPI:
    """The app; `jobs` is its background work (jobs.py), which a test counting statements
    leaves out: the sweep and the gauges' refresh read the tables on their own schedule."""
    settings = settings or MilestoneSettings()
    clock = clock or SystemClock()
    handlers = build_handlers(settings, clock)
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi milestone",
            description="Lifecycle stages, milestones, 旬/月 progress reports and alert rules.",
            routers=[
                milestones_router,
                lifecycle_router,
                progress_router,
                progress_batch_router,
                evidence_router,
                evidence_files_router,
                timeline_router,
                rules_router,
                summaries_router,
                bulletins_router,
                report_sheets_router,
                assigned_router,
            ],
            migrations=MIGRATIONS,
            produces=[Topic.MILESTONES, Topic.ALERTS],
            consumes=list(CONSUMED_TOPICS),
            handlers=handlers.as_mapping(),
            prepare=handlers.prepare,
            caught_up=handlers.caught_up,
            workers=jobs,
            body_limits=[
                # Twice the photo limit: the route itself refuses a photo above its limit,
                # naming the field (the body limit answers only a bare 413).
                (r"^/v1/projects/[^/]+/evidence$", 2 * settings.evidence_max_bytes + 65_536),
                (r"^/v1/progress/batch$", settings.batch_max_bytes),
                (r"^/v1/progress/import$", settings.report_sheet_max_bytes + 64 * 1024),
            ],
            clock=clock,
        )
    )
