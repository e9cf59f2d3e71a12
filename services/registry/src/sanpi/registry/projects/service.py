"""Project rules: registration, reads, and the stage projection. Never commits; the caller does."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProjectRegistered, ProjectStageChanged, Stage
from sanpi.kit import FieldProblem, InvalidInput, NotFound, Page, Principal, enqueue, utcnow
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.registry.projects import repository
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.schemas import ProjectCreate, ProjectPublic

log = logging.getLogger("sanpi.registry.projects")


async def register(
    session: AsyncSession, *, body: ProjectCreate, principal: Principal, parks: list[str]
) -> Project:
    """Adds a project to the ledger and emits project.registered in the same transaction."""
    if body.park not in parks:
        raise InvalidInput(
            f"park: unknown park {body.park!r}",
            errors=[FieldProblem("park", f"unknown park; one of {', '.join(parks)}")],
        )
    principal.ensure_can_write_park(body.park)
    project = Project(
        name=body.name,
        park=body.park,
        total_investment=body.total_investment,
        planned_start_date=body.planned_start_date,
        planned_production_date=body.planned_production_date,
        stage=body.initial_stage,
        created_by=principal.subject,
    )
    repository.add(session, project)
    enqueue(
        session,
        ProjectRegistered(
            project_id=project.id,
            version=project.version,
            name=project.name,
            park=project.park,
            total_investment=project.total_investment,
            stage=project.stage,
            planned_start_date=project.planned_start_date,
            planned_production_date=project.planned_production_date,
        ),
    )
    return project


async def get(session: AsyncSession, *, project_id: str) -> Project:
    """Returns the project or raises 404."""
    project = await repository.get(session, project_id)
    if project is None:
        raise NotFound(f"project {project_id} is not in the registry")
    return project


async def list_projects(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    park: str | None,
    stage: Stage | None,
) -> Page[ProjectPublic]:
    rows = await repository.list_page(
        session, limit=limit + 1, after=created_key_after(cursor), park=park, stage=stage
    )
    page, next_cursor = page_by_created(rows, limit, lambda p: (p.created_at, p.id))
    return Page[ProjectPublic](
        items=[ProjectPublic.model_validate(r) for r in page], next_cursor=next_cursor
    )


async def apply_stage_change(session: AsyncSession, data: ProjectStageChanged) -> None:
    """Keeps the stage projection current; the registry never decides a stage itself."""
    project = await repository.get(session, data.project_id)
    if project is None:
        log.warning("stage change for unknown project %s ignored", data.project_id)
        return
    project.stage = data.to_stage
    project.updated_at = utcnow()
    session.add(project)
