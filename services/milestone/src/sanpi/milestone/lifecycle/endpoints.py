"""HTTP routes of the lifecycle: suspend, resume, and the admin's audited stage correction."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from sanpi.kit import Admin, FieldProblem, InvalidInput, RuntimeDep, SessionDep, Writer, today
from sanpi.milestone.lifecycle import service
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.schemas import (
    CorrectionCreate,
    ResumeCreate,
    StagePublic,
    SuspendCreate,
)
from sanpi.milestone.lifecycle.state_machine import Command, Correct, Resume, Suspend
from sanpi.milestone.rules.endpoints import settings_of
from sanpi.milestone.rules.service import reevaluate

router = APIRouter(prefix="/projects", tags=["lifecycle"])


def stage_public(project: TrackedProject) -> StagePublic:
    return StagePublic(
        project_id=project.project_id,
        stage=project.stage,
        resume_to=project.resume_to,
        stage_since=project.stage_since,
        expected_resume_date=project.expected_resume_date,
    )


async def run(
    session: SessionDep,
    runtime: RuntimeDep,
    project: TrackedProject,
    cmd: Command,
    *,
    on: dt.date,
    by: str,
    note: str | None,
    expected_resume_date: dt.date | None = None,
) -> StagePublic:
    """Decides, applies, emits stage_changed and re-evaluates the project's rules."""
    decision = service.command(project, cmd)
    service.apply(
        session,
        project,
        decision,
        on=on,
        by=by,
        note=note,
        expected_resume_date=expected_resume_date,
    )
    reevaluate(
        session, settings=settings_of(runtime), clock=runtime.clock, project_id=project.project_id
    )
    return stage_public(project)


@router.post("/{project_id}/suspend", response_model=StagePublic)
async def suspend(
    project_id: str,
    body: SuspendCreate,
    principal: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """停工: remembers the stage to return to; overdue rules are muted while suspended."""
    project = await service.get_writable(session, project_id, principal)
    day = body.date or today(runtime.clock)
    if body.expected_resume_date is not None and body.expected_resume_date < day:
        raise InvalidInput(
            "expected_resume_date is before the suspension",
            errors=[FieldProblem("expected_resume_date", f"is before {day}")],
        )
    return await run(
        session,
        runtime,
        project,
        Suspend(),
        on=day,
        by=principal.subject,
        note=body.reason,
        expected_resume_date=body.expected_resume_date,
    )


@router.post("/{project_id}/resume", response_model=StagePublic)
async def resume(
    project_id: str,
    body: ResumeCreate,
    principal: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """复工: back to the stage the project was suspended from."""
    project = await service.get_writable(session, project_id, principal)
    day = body.date or today(runtime.clock)
    return await run(
        session, runtime, project, Resume(), on=day, by=principal.subject, note=body.note
    )


@router.post("/{project_id}/stage-corrections", response_model=StagePublic)
async def correct(
    project_id: str,
    body: CorrectionCreate,
    principal: Admin,
    session: SessionDep,
    runtime: RuntimeDep,
) -> StagePublic:
    """Admin only: sets a wrongly recorded stage right (the only backward move), recorded with
    who and why, and emitted as stage_changed with reason CORRECTION."""
    project = await service.get(session, project_id)
    cmd = Correct(body.to_stage, principal.subject, body.reason, by_admin=True)
    day = body.date or today(runtime.clock)
    return await run(session, runtime, project, cmd, on=day, by=principal.subject, note=body.reason)
