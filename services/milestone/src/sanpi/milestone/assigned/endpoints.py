"""HTTP routes of assigned issues (交办事项): raise, list, read, feedback, close out (销号)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    FieldProblem,
    IfMatch,
    InvalidInput,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWork,
    UnitOfWorkDep,
    Writer,
    etag,
    today,
)
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.milestone import flows
from sanpi.milestone.assigned import messages as refusals
from sanpi.milestone.assigned import service
from sanpi.milestone.assigned.models import AssignedIssue
from sanpi.milestone.assigned.repository import IssueFilter
from sanpi.milestone.assigned.schemas import (
    FeedbackCreate,
    IssueClose,
    IssueCreate,
    IssueOrder,
    IssuePublic,
    IssueState,
)
from sanpi.milestone.flows import Context
from sanpi.milestone.lifecycle import service as lifecycle

router = APIRouter(tags=["assigned issues"])

Unit = Annotated[
    str | None, Query(max_length=128, description="only this responsible unit's (责任单位) issues")
]
OpenOnly = Annotated[
    bool, Query(alias="open", description="only issues not closed (销号); as status=open")
]
State = Annotated[
    IssueState | None,
    Query(alias="status", description="open (OPEN or IN_PROGRESS) or closed (销号)"),
]
Overdue = Annotated[
    bool,
    Query(
        description="only the late ones: open and past their due day today (due days count "
        "working days with 调休, as R12 does), or with status=closed, closed after it"
    ),
]
Parks = Annotated[
    list[Annotated[str, Query(min_length=1, max_length=64)]] | None,
    Query(
        description="only the issues of projects in any of these parks (repeat it)", max_length=100
    ),
]
Order = Annotated[
    IssueOrder,
    Query(
        description="created: oldest first; due: the earliest due day first (then id). A cursor "
        "is only good for the order it was made in"
    ),
]
WithFeedback = Annotated[
    bool, Query(description="each issue with its feedback entries, oldest first")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "/projects/{project_id}/issues",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuePublic,
)
async def post_issue(
    project_id: str,
    body: IssueCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """Assigns a problem of the project to a responsible unit (交办). Its deadlines follow the
    13710 rule in working days with 调休: feedback within 3 working days, a ROUTINE issue solved
    within 7, a MAJOR one within a month; R12 turns yellow after the due day and red after
    twice the time. Emits sanpi.assigned_issue.raised.v1. 422 names the field (in Chinese unless
    Accept-Language asks for English): no assigned_unit, no description, due_on before
    raised_on, raised_on in the future or in a year the working-day calendar does not know.
    The answer's ETag (and `version`, 1) is what feedback and closing send back."""
    ctx = Context.of(runtime)
    row = await flows.raise_issue(
        uow,
        ctx,
        project_id=project_id,
        body=body,
        principal=principal,
        lang=language(accept_language),
    )
    response.headers["ETag"] = etag(row.version)
    return await service.answer(uow, row, today(ctx.clock), with_feedback=False)


@router.get("/projects/{project_id}/issues", response_model=Page[IssuePublic])
async def project_issues(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    unit: Unit = None,
    open_only: OpenOnly = False,
    state: State = None,
    overdue: Overdue = False,
    order: Order = IssueOrder.CREATED,
    feedback: WithFeedback = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[IssuePublic]:
    """The project's assigned issues, oldest first (filters as GET /v1/issues)."""
    await lifecycle.get(session, project_id)
    where = _filter(project_id, None, unit, open_only, state, overdue, today(runtime.clock))
    return await _page(session, runtime, where, order, feedback, limit, cursor)


@router.get("/issues", response_model=Page[IssuePublic])
async def list_issues(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    project_id: Annotated[str | None, Query(max_length=36)] = None,
    park: Parks = None,
    unit: Unit = None,
    open_only: OpenOnly = False,
    state: State = None,
    overdue: Overdue = False,
    order: Order = IssueOrder.CREATED,
    feedback: WithFeedback = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[IssuePublic]:
    """Assigned issues of every project, each with its project's name and park: the 交办 ledger
    (台账) of a unit with `unit=`, of the parks one works on with `park=` (repeated), the ones
    still to close with `status=open` (or `open=true`), the closed ones with `status=closed`, the
    late ones with `overdue=true`, the earliest due first with `order=due`, and each issue's
    feedback with `feedback=true`. 422 names the field (Chinese first): an unknown status or
    order, `open=true` with `status=closed`, a cursor of another order."""
    where = _filter(project_id, park, unit, open_only, state, overdue, today(runtime.clock))
    return await _page(session, runtime, where, order, feedback, limit, cursor)


def _filter(
    project_id: str | None,
    parks: list[str] | None,
    unit: str | None,
    open_only: bool,
    state: IssueState | None,
    overdue: bool,
    day: dt.date,
) -> IssueFilter:
    if open_only and state is IssueState.CLOSED:
        raise InvalidInput(
            refusals.OPEN_BUT_CLOSED(),
            errors=[FieldProblem("query.status", refusals.CONTRADICTS_OPEN())],
        )
    closed = None if state is None and not open_only else state is IssueState.CLOSED
    return IssueFilter(
        project_id=project_id,
        parks=tuple(parks or ()),
        unit=unit,
        closed=closed,
        overdue_on=day if overdue else None,
    )


async def _page(
    session: ReadSessionDep,
    runtime: RuntimeDep,
    where: IssueFilter,
    order: IssueOrder,
    with_feedback: bool,
    limit: int,
    cursor: str | None,
) -> Page[IssuePublic]:
    items, next_cursor = await service.page(
        session,
        limit=limit,
        cursor=cursor,
        where=where,
        order=order,
        today=today(runtime.clock),
        with_feedback=with_feedback,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/issues/{issue_id}", response_model=IssuePublic)
async def get_issue(
    issue_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> IssuePublic:
    """One assigned issue with its feedback, oldest first; its ETag is its version."""
    row = await service.get(session, issue_id)
    response.headers["ETag"] = etag(row.version)
    return await service.answer(session, row, today(runtime.clock))


@router.post(
    "/issues/{issue_id}/feedback", status_code=status.HTTP_201_CREATED, response_model=IssuePublic
)
async def post_feedback(
    issue_id: str,
    body: FeedbackCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: IfMatch = None,
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """Records the responsible unit's feedback (反馈) on an open issue; the first one stops the
    3-working-day feedback clock. Emits sanpi.assigned_issue.feedback_added.v1. 422 on a closed
    issue (field issue_id) or an empty text. Concurrency: send If-Match with the ETag you read
    (stale → 412) or the `version` you read in the body (stale → 409); the answer's ETag is the
    new version."""
    ctx = Context.of(runtime)
    row, _ = await flows.add_issue_feedback(
        uow,
        ctx,
        issue_id=issue_id,
        body=body,
        principal=principal,
        lang=language(accept_language),
        if_match=if_match,
    )
    return await _written(uow, ctx, row, response)


@router.post("/issues/{issue_id}/close", response_model=IssuePublic)
async def close_issue(
    issue_id: str,
    body: IssueClose,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: IfMatch = None,
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """销号: closes a solved issue with its evidence (at least one URI: a permit, a photo
    /v1/evidence/{id} of this project, a letter). R12 falls silent on it and its alert resolves.
    Emits sanpi.assigned_issue.closed.v1. 422 without evidence, on an issue already closed, or
    with closed_on before raised_on. Concurrency as for feedback: If-Match (stale → 412) or the
    body's `version` (stale → 409)."""
    ctx = Context.of(runtime)
    row = await flows.close_issue(
        uow,
        ctx,
        issue_id=issue_id,
        body=body,
        principal=principal,
        lang=language(accept_language),
        if_match=if_match,
    )
    return await _written(uow, ctx, row, response)


async def _written(
    uow: UnitOfWork, ctx: Context, row: AssignedIssue, response: Response
) -> IssuePublic:
    """A written issue as its route answers it, its new version the ETag."""
    response.headers["ETag"] = etag(row.version)
    return await service.answer(uow, row, today(ctx.clock))
