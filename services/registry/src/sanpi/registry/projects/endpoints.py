"""HTTP routes of /v1/projects: thin, they parse, call the service and shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from sanpi.events import Stage
from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    RuntimeDep,
    SessionDep,
    Writer,
    etag,
    run_idempotent,
)
from sanpi.registry.projects import service
from sanpi.registry.projects.schemas import ProjectCreate, ProjectPublic
from sanpi.registry.settings import RegistrySettings

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic)
async def create_project(
    body: ProjectCreate,
    principal: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Registers a project (签约 or directly 开工) and emits sanpi.project.registered.v1.
    A retry with the same Idempotency-Key returns the first answer instead of a second project."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)

    async def register() -> tuple[ProjectPublic, dict[str, str]]:
        project = await service.register(
            session, body=body, principal=principal, parks=settings.parks
        )
        headers = {"Location": f"/v1/projects/{project.id}", "ETag": etag(project.version)}
        return ProjectPublic.model_validate(project), headers

    return await run_idempotent(
        session,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/projects",
        payload=body,
        action=register,
    )


@router.get("", response_model=Page[ProjectPublic])
async def list_projects(
    _principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    park: str | None = None,
    stage: Stage | None = None,
) -> Page[ProjectPublic]:
    """Lists projects, oldest first, a page at a time (`next_cursor` until null)."""
    return await service.list_projects(session, limit=limit, cursor=cursor, park=park, stage=stage)


@router.get("/{project_id}", response_model=ProjectPublic)
async def get_project(
    project_id: str, _principal: Authenticated, session: ReadSessionDep, response: Response
) -> ProjectPublic:
    """One project, with its current stage (as last reported by the milestone service)."""
    project = await service.get(session, project_id=project_id)
    response.headers["ETag"] = etag(project.version)
    return ProjectPublic.model_validate(project)
