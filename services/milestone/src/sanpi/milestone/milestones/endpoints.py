"""HTTP routes of milestones: post one, read a project's timeline."""

from __future__ import annotations

from fastapi import APIRouter, status

from sanpi.kit import Authenticated, ReadSessionDep, SessionDep, Writer
from sanpi.milestone.milestones import service
from sanpi.milestone.milestones.schemas import (
    MilestoneCreate,
    MilestonePublic,
    Timeline,
    TimelineEntry,
)

router = APIRouter(prefix="/projects", tags=["milestones"])


@router.post(
    "/{project_id}/milestones", status_code=status.HTTP_201_CREATED, response_model=MilestonePublic
)
async def post_milestone(
    project_id: str, body: MilestoneCreate, principal: Writer, session: SessionDep
) -> MilestonePublic:
    """Records a milestone. STARTED, IN_PRODUCTION (with evidence), FULFILLED and EFFECTIVE move
    the stage and emit sanpi.project.stage_changed.v1; an illegal move answers 409."""
    milestone, project = await service.record(
        session, project_id=project_id, body=body, principal=principal
    )
    return MilestonePublic(
        id=milestone.id,
        project_id=milestone.project_id,
        kind=milestone.kind,
        date=milestone.date,
        evidence=milestone.evidence,
        recorded_by=milestone.recorded_by,
        recorded_at=milestone.recorded_at,
        stage=project.stage,
    )


@router.get("/{project_id}/timeline", response_model=Timeline)
async def get_timeline(
    project_id: str, _principal: Authenticated, session: ReadSessionDep
) -> Timeline:
    """The project's current stage and every milestone recorded for it, oldest first."""
    project, rows = await service.timeline(session, project_id=project_id)
    return Timeline(
        project_id=project.project_id,
        name=project.name,
        park=project.park,
        stage=project.stage,
        items=[
            TimelineEntry(
                at=m.recorded_at,
                kind=m.kind,
                date=m.date,
                evidence=m.evidence,
                recorded_by=m.recorded_by,
            )
            for m in rows
        ],
    )
