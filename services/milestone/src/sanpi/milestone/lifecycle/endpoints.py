"""HTTP routes of the lifecycle: suspend, resume, and the admin's audited stage correction."""

from __future__ import annotations

from fastapi import APIRouter

from sanpi.kit import Admin, RuntimeDep, UnitOfWorkDep, Writer, today
from sanpi.milestone import flows
from sanpi.milestone.flows import Context
from sanpi.milestone.lifecycle import service
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.schemas import (
    CorrectionCreate,
    ResumeCreate,
    StagePublic,
    SuspendCreate,
)
from sanpi.milestone.lifecycle.state_machine import Correct, Resume, Suspend

router = APIRouter(prefix="/projects", tags=["lifecycle"])


def stage_public(project: TrackedProject) -> StagePublic:
    return StagePublic(
        project_id=project.project_id,
        stage=project.stage,
        resume_to=project.resume_to,
        stage_since=project.stage_since,
        expected_resume_date=project.expected_resume_date,
    )


@router.post("/{project_id}/suspend", response_model=StagePublic)
async def suspend(
    project_id: str,
    body: SuspendCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """停工: remembers the stage to return to; overdue rules are muted while suspended."""
    project = await service.get_writable(uow, project_id, principal)
    day = body.date or today(runtime.clock)
    changed = await flows.change_stage(
        uow,
        Context.of(runtime),
        project,
        Suspend(),
        on=day,
        by=principal.subject,
        note=body.reason,
        expected_resume_date=body.expected_resume_date,
    )
    return stage_public(changed)


@router.post("/{project_id}/resume", response_model=StagePublic)
async def resume(
    project_id: str,
    body: ResumeCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """复工: back to the stage the project was suspended from."""
    project = await service.get_writable(uow, project_id, principal)
    day = body.date or today(runtime.clock)
    changed = await flows.change_stage(
        uow, Context.of(runtime), project, Resume(), on=day, by=principal.subject, note=body.note
    )
    return stage_public(changed)


@router.post("/{project_id}/stage-corrections", response_model=StagePublic)
async def correct(
    project_id: str,
    body: CorrectionCreate,
    principal: Admin,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """Admin only: sets a wrongly recorded stage right (the only backward move), recorded with
    who and why, and emitted as stage_changed with reason CORRECTION."""
    project = await service.get(uow, project_id)
    cmd = Correct(body.to_stage, principal.subject, body.reason, by_admin=True)
    day = body.date or today(runtime.clock)
    changed = await flows.change_stage(
        uow, Context.of(runtime), project, cmd, on=day, by=principal.subject, note=body.reason
    )
    return stage_public(changed)
