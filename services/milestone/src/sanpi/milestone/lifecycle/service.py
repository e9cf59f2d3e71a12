"""Lifecycle rules with I/O: track registered projects, change stages, emit stage_changed."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneKind, ProjectRegistered, ProjectStageChanged, Stage
from sanpi.kit import NotFound, enqueue, utcnow
from sanpi.milestone.lifecycle import repository
from sanpi.milestone.lifecycle.models import TrackedProject


async def track(session: AsyncSession, data: ProjectRegistered) -> None:
    """Starts tracking a newly registered project in its initial stage."""
    if await repository.get(session, data.project_id) is not None:
        return
    repository.save(
        session,
        TrackedProject(
            project_id=data.project_id,
            name=data.name,
            park=data.park,
            total_investment=data.total_investment,
            planned_start_date=data.planned_start_date,
            planned_production_date=data.planned_production_date,
            stage=data.stage,
            registry_version=data.version,
        ),
    )


async def get(session: AsyncSession, project_id: str) -> TrackedProject:
    """The tracked project, or 404 when the registry's event has not reached this service."""
    project = await repository.get(session, project_id)
    if project is None:
        raise NotFound(f"project {project_id} is not known to the milestone service")
    return project


def change_stage(
    session: AsyncSession,
    project: TrackedProject,
    *,
    to: Stage,
    on: dt.date,
    by: str,
    kind: MilestoneKind | None,
    evidence: list[str],
) -> None:
    """Moves the project (already validated by the state machine) and emits stage_changed."""
    previous = project.stage
    project.stage = to
    project.updated_at = utcnow()
    repository.save(session, project)
    enqueue(
        session,
        ProjectStageChanged(
            project_id=project.project_id,
            from_stage=previous,
            to_stage=to,
            effective_date=on,
            reason="MILESTONE",
            milestone_kind=kind,
            evidence=evidence,
            changed_by=by,
        ),
    )
