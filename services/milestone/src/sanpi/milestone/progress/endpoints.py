"""HTTP routes of progress: 旬/月 reports and annual investment plans."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
    run_idempotent,
)
from sanpi.kit.app import get_runtime, write_transaction
from sanpi.kit.auth import PrincipalBearer
from sanpi.kit.messages import AcceptLanguage, FieldMessage, language
from sanpi.milestone import flows
from sanpi.milestone.flows import Context
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.nodes import service as milestones
from sanpi.milestone.nodes.schemas import MilestoneWarning, milestone_public
from sanpi.milestone.progress import service
from sanpi.milestone.progress.schemas import (
    MilestoneBatchRow,
    PlanPublic,
    PlanPut,
    ProgressBatch,
    ProgressBatchResult,
    ProgressBatchRow,
    ProgressCreate,
    ProgressPublic,
    RowError,
)

router = APIRouter(prefix="/projects", tags=["progress"])
batch_router = APIRouter(prefix="/progress", tags=["progress"])


async def post_progress(
    project_id: str,
    body: ProgressCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A 旬 (`2023-03-X2`) or monthly (`2023-03`) report; emits sanpi.progress.reported.v1.
    A cumulative lower than an earlier period's needs correction=true; completed investment
    above the total is refused; a report after its deadline is accepted with late=true."""
    # The request, not RuntimeDep: each dependency FastAPI solves cost a report ~1.5 % of its
    # Python calls, and this route carries the live load.
    ctx = Context.of(get_runtime(request))

    async def report() -> tuple[ProgressPublic, dict[str, str]]:
        row = await flows.report_progress(
            uow, ctx, project_id=project_id, body=body, principal=principal
        )
        return ProgressPublic.model_validate(row), {}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope=f"POST /v1/projects/{project_id}/progress",
        payload=body,
        action=report,
    )


# The dependency behind `Writer`: the fast path below calls it as FastAPI would.
_WRITER: PrincipalBearer = get_args(Writer)[1].dependency


class _ProgressRoute(APIRoute):
    """POST /v1/projects/{id}/progress, the route of the live load, without FastAPI's dependency
    solver for its common request: a JSON body that validates and no Idempotency-Key. It does
    what the solver does, in its order: the caller (401/403/429 as always), the body validated
    as FastAPI validates it (json.loads, then the model in Python mode), the transaction
    (503 while the outbox is backlogged), the route; the route's answer is returned as is. Any
    other request (another content type, an Idempotency-Key to check, a body that does not
    validate) goes to FastAPI's own handler, which answers exactly as before: the caller is
    checked once either way. The OpenAPI document is built from the route's signature as
    before (tests/docs compares it byte for byte)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        solved = super().get_route_handler()

        async def handler(request: Request) -> Response:
            headers = request.headers
            if headers.get("content-type") != "application/json" or "idempotency-key" in headers:
                return await solved(request)
            try:
                body = ProgressCreate.model_validate(json.loads(await request.body()))
            except (ValueError, ValidationError):
                return await solved(request)  # FastAPI's 400/422, each field named
            principal = await _WRITER(request)
            async with write_transaction(request) as uow:
                return await post_progress(
                    project_id=request.path_params["project_id"],
                    body=body,
                    principal=principal,
                    uow=uow,
                    request=request,
                )

        return handler


router.add_api_route(
    "/{project_id}/progress",
    post_progress,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=ProgressPublic,
    route_class_override=_ProgressRoute,
)


@router.get("/{project_id}/progress", response_model=Page[ProgressPublic])
async def list_progress(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ProgressPublic]:
    """The project's reports in the order they were first submitted."""
    await lifecycle.get(session, project_id)
    rows, next_cursor = await service.report_page(
        session, project_id=project_id, limit=limit, cursor=cursor
    )
    return Page(items=[ProgressPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.put("/{project_id}/investment-plans/{year}", response_model=PlanPublic)
async def put_plan(
    project_id: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: PlanPut,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> PlanPublic:
    """Sets the year's 年度计划投资 with optional monthly and 旬 splits (they must add up)."""
    row = await flows.set_plan(
        uow,
        Context.of(runtime),
        project_id=project_id,
        year=year,
        body=body,
        principal=principal,
    )
    return PlanPublic.model_validate(row)


@router.get("/{project_id}/investment-plans", response_model=Page[PlanPublic])
async def list_plans(
    project_id: str, _principal: Authenticated, session: ReadSessionDep
) -> Page[PlanPublic]:
    """The project's annual plans, oldest year first (one page: one plan per year)."""
    await lifecycle.get(session, project_id)
    return Page(
        items=[PlanPublic.model_validate(p) for p in await service.plans(session, project_id)]
    )


@batch_router.post("/batch", response_model=ProgressBatchResult)
async def post_batch(
    body: ProgressBatch,
    principal: Writer,
    uow: UnitOfWorkDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    """Up to 500 旬/月 reports and reached milestones of any projects in one request (a park's 旬
    at once): each report row is checked as POST /v1/projects/{id}/progress checks one, each
    milestone row as POST /v1/projects/{id}/milestones does (after the reports, in order: a
    project's stage as the batch's earlier milestones move it); the accepted rows are written in
    one transaction with their events; a refused row (another park's project included) is listed
    with its errors and does not stop the others, unless all_or_nothing. Answers 200 with each
    row's outcome; messages in Chinese unless Accept-Language asks for English."""
    ctx = Context.of(get_runtime(request))
    lang = language(accept_language)

    def errors(problems: list[FieldMessage]) -> list[RowError]:
        return [
            RowError(field=p.field, code=p.message.code, message=p.text(lang)) for p in problems
        ]

    async def report() -> tuple[ProgressBatchResult, dict[str, str]]:
        outcomes = await flows.submit_batch(
            uow,
            ctx,
            service.read_rows(body.reports),
            milestones.read_rows(body.milestones),
            principal=principal,
            all_or_nothing=body.all_or_nothing,
        )
        rows = [
            ProgressBatchRow(
                index=outcome.index,
                project_id=outcome.project_id,
                status=outcome.status,
                report=None
                if outcome.report is None
                else ProgressPublic.model_validate(outcome.report),
                errors=errors(outcome.problems),
            )
            for outcome in outcomes.reports
        ]
        nodes = [
            MilestoneBatchRow(
                index=outcome.index,
                project_id=outcome.project_id,
                status=outcome.status,
                milestone=None
                if outcome.row is None or outcome.stage is None
                else milestone_public(
                    outcome.row,
                    stage=outcome.stage,
                    warnings=[
                        MilestoneWarning(code=w.code, field=w.field, message=w.message.render(lang))
                        for w in outcome.warnings
                    ],
                ),
                errors=errors(outcome.problems),
            )
            for outcome in outcomes.milestones
        ]
        counts = Counter(row.status for row in rows) + Counter(row.status for row in nodes)
        answer = ProgressBatchResult(
            results=rows,
            milestones=nodes,
            accepted=counts["accepted"] + counts["late"],
            refused=counts["refused"],
            duplicate=counts["duplicate"],
        )
        return answer, {}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/progress/batch",
        payload=body,
        action=report,
        status_code=200,
    )
