"""HTTP routes of /v1/projects: thin, they parse, call the service and shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from sanpi.events import BatchType, Category, ChainTag, Stage
from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    FieldProblem,
    IdempotencyKey,
    IfMatch,
    InvalidInput,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
    etag,
    run_idempotent,
    today,
)
from sanpi.registry.periods.schemas import MAX_PERIOD
from sanpi.registry.projects import messages as refusals
from sanpi.registry.projects import service
from sanpi.registry.projects.repository import ProjectFilter
from sanpi.registry.projects.schemas import (
    MAX_AMOUNT_WAN,
    CancelRequest,
    ProjectCreate,
    ProjectPublic,
    ProjectSort,
    ProjectUpdate,
)
from sanpi.registry.settings import RegistrySettings, settings_of

router = APIRouter(prefix="/projects", tags=["projects"])


# async: FastAPI runs a plain `def` dependency in its thread pool, and on a busy machine that
# hand-off, not the query (0.2–5 ms at 20,000 projects), made most of a list's time and its p99.
async def project_filter(
    park: str | None = None,
    stage: Stage | None = None,
    category: Category | None = None,
    chain_tag: ChainTag | None = None,
    manufacturing: Annotated[
        bool | None, Query(description="制造业 only / non-制造业 only")
    ] = None,
    period: Annotated[
        int | None, Query(ge=1, le=MAX_PERIOD, description="listed in this 期")
    ] = None,
    batch: Annotated[BatchType | None, Query(description="on this kind of list")] = None,
    min_investment: Annotated[
        int | None, Query(ge=0, le=MAX_AMOUNT_WAN, description="总投资 ≥ (万元)")
    ] = None,
    max_investment: Annotated[
        int | None, Query(ge=0, le=MAX_AMOUNT_WAN, description="总投资 ≤ (万元)")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="in name, enterprise or project code"),
    ] = None,
    include_cancelled: bool = True,
) -> ProjectFilter:
    """The list filters shared by GET /projects and GET /projects/export."""
    if (
        min_investment is not None
        and max_investment is not None
        and min_investment > max_investment
    ):
        raise InvalidInput(
            refusals.MIN_ABOVE_MAX(),
            errors=[FieldProblem("query.min_investment", refusals.MIN_ABOVE_MAX_FIELD())],
        )
    return ProjectFilter(
        park=park,
        stage=stage,
        category=category,
        chain_tag=chain_tag,
        is_manufacturing=manufacturing,
        period=period,
        batch=batch,
        min_investment=min_investment,
        max_investment=max_investment,
        q=q,
        include_cancelled=include_cancelled,
    )


FilterDep = Annotated[ProjectFilter, Depends(project_filter)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectPublic)
async def create_project(
    body: ProjectCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Registers a project (签约 or directly 开工) and emits sanpi.project.registered.v1.
    A retry with the same Idempotency-Key returns the first answer instead of a second project."""
    settings = settings_of(runtime)

    async def register() -> tuple[ProjectPublic, dict[str, str]]:
        project = await service.register(
            uow,
            body=body,
            principal=principal,
            parks=settings.parks,
        )
        headers = {"Location": f"/v1/projects/{project.id}", "ETag": etag(project.version)}
        return ProjectPublic.of(project), headers

    return await run_idempotent(
        uow,
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
    filters: FilterDep,
    sort: ProjectSort = ProjectSort.CREATED,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ProjectPublic]:
    """Lists projects matching every filter given, in `sort` order, a page at a time
    (`next_cursor` until null; a cursor is only valid with the sort it was made for)."""
    return await service.list_projects(
        session, filters=filters, sort=sort, limit=limit, cursor=cursor
    )


@router.get("/{project_id}", response_model=ProjectPublic)
async def get_project(
    project_id: str, _principal: Authenticated, session: ReadSessionDep, response: Response
) -> ProjectPublic:
    """One project, with its current stage (as last reported by the milestone service)."""
    project = await service.get(session, project_id=project_id)
    response.headers["ETag"] = etag(project.version)
    return ProjectPublic.of(project)


@router.patch("/{project_id}", response_model=ProjectPublic)
async def patch_project(
    project_id: str,
    body: ProjectUpdate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectPublic:
    """Changes master data; emits sanpi.project.updated.v1 when something changed. Concurrency:
    send If-Match (stale → 412) or the `version` you read in the body (stale → 409); neither → 428."""
    project = await service.update(
        uow,
        project_id=project_id,
        body=body,
        if_match=if_match,
        principal=principal,
        parks=settings_of(runtime).parks,
    )
    response.headers["ETag"] = etag(project.version)
    return ProjectPublic.of(project)


@router.post("/{project_id}/cancel", response_model=ProjectPublic)
async def cancel_project(
    project_id: str,
    body: CancelRequest,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectPublic:
    """终止/清退 with a reason; emits sanpi.project.cancelled.v1 (409 if already cancelled)."""
    project = await service.cancel(
        uow,
        project_id=project_id,
        body=body,
        if_match=if_match,
        principal=principal,
        today=today(runtime.clock),
    )
    response.headers["ETag"] = etag(project.version)
    return ProjectPublic.of(project)


parks_router = APIRouter(tags=["projects"])


@parks_router.get("/parks")
async def list_parks(_principal: Authenticated, runtime: RuntimeDep) -> dict[str, object]:
    """The district and the parks a project may belong to (settings: SANPI_REGISTRY_PARKS)."""
    settings: RegistrySettings = settings_of(runtime)
    return {"district": settings.district, "parks": settings.parks}
