"""Builds the milestone app: its routes, tables, the topics it writes and the events it consumes."""

from __future__ import annotations

from fastapi import FastAPI

from sanpi.events import Topic
from sanpi.kit import ServiceSpec, create_service_app
from sanpi.milestone.consumers import handlers
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.milestones.endpoints import router as milestones_router
from sanpi.milestone.milestones.models import Milestone
from sanpi.milestone.settings import MilestoneSettings


def create_app(settings: MilestoneSettings | None = None) -> FastAPI:
    settings = settings or MilestoneSettings()
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi milestone",
            description="Lifecycle stages, milestones, 旬/月 progress reports and alert rules.",
            routers=[milestones_router],
            tables=[TrackedProject, Milestone],
            produces=[Topic.MILESTONES, Topic.ALERTS],
            consumes=[Topic.PROJECTS],
            handlers=handlers.as_mapping(),
        )
    )
