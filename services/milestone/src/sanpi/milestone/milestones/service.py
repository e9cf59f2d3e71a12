"""Recording milestones: the state machine decides, this module writes and emits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import MilestoneAchieved
from sanpi.kit import Conflict, Principal, enqueue
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.state_machine import IllegalTransition, stage_after_milestone
from sanpi.milestone.milestones import repository
from sanpi.milestone.milestones.models import Milestone
from sanpi.milestone.milestones.schemas import MilestoneCreate


async def record(
    session: AsyncSession, *, project_id: str, body: MilestoneCreate, principal: Principal
) -> tuple[Milestone, TrackedProject]:
    """Records a milestone; a stage-defining one also moves the stage (409 if illegal)."""
    project = await lifecycle.get(session, project_id)
    principal.ensure_can_write_park(project.park)
    try:
        target = stage_after_milestone(project.stage, body.kind, body.evidence)
    except IllegalTransition as exc:
        raise Conflict(str(exc), stage=str(project.stage), kind=str(body.kind)) from exc
    milestone = Milestone(
        project_id=project_id,
        kind=body.kind,
        date=body.date,
        evidence=list(body.evidence),
        recorded_by=principal.subject,
    )
    repository.add(session, milestone)
    enqueue(
        session,
        MilestoneAchieved(
            project_id=project_id,
            milestone_id=milestone.id,
            kind=milestone.kind,
            date=milestone.date,
            evidence=milestone.evidence,
            recorded_by=milestone.recorded_by,
        ),
    )
    if target is not None:
        lifecycle.change_stage(
            session,
            project,
            to=target,
            on=body.date,
            by=principal.subject,
            kind=body.kind,
            evidence=milestone.evidence,
        )
    return milestone, project


async def timeline(
    session: AsyncSession, *, project_id: str
) -> tuple[TrackedProject, list[Milestone]]:
    project = await lifecycle.get(session, project_id)
    return project, await repository.for_project(session, project_id)
