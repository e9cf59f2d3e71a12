"""HTTP routes of assigned issues (交办事项): raise, list, read, feedback, close out (销号)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
    today,
)
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.milestone import flows
from sanpi.milestone.assigned import service
from sanpi.milestone.assigned.schemas import FeedbackCreate, IssueClose, IssueCreate, IssuePublic
from sanpi.milestone.flows import Context
from sanpi.milestone.lifecycle import service as lifecycle

router = APIRouter(tags=["assigned issues"])

Unit = Annotated[str | None, Query(description="only this responsible unit's (责任单位) issues")]
OpenOnly = Annotated[bool, Query(alias="open", description="only issues not closed (销号)")]
Overdue = Annotated[bool, Query(description="only open issues past their due day today")]
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
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """Assigns a problem of the project to a responsible unit (交办). Its deadlines follow the
    13710 rule in working days with 调休: feedback within 3 working days, a ROUTINE issue solved
    within 7, a MAJOR one within a month; R12 turns yellow after the due day and red after
    twice the time. Emits sanpi.assigned_issue.raised.v1. 422 names the field (in Chinese unless
    Accept-Language asks for English): no assigned_unit, no description, due_on before
    raised_on, raised_on in the future or in a year the working-day calendar does not know."""
    ctx = Context.of(runtime)
    row = await flows.raise_issue(
        uow,
        ctx,
        project_id=project_id,
        body=body,
        principal=principal,
        lang=language(accept_language),
    )
    return service.public(row, today(ctx.clock))


@router.get("/projects/{project_id}/issues", response_model=Page[IssuePublic])
async def project_issues(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    unit: Unit = None,
    open_only: OpenOnly = False,
    overdue: Overdue = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[IssuePublic]:
    """The project's assigned issues, oldest first."""
    await lifecycle.get(session, project_id)
    return await _page(session, runtime, project_id, unit, open_only, overdue, limit, cursor)


@router.get("/issues", response_model=Page[IssuePublic])
async def list_issues(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    project_id: str | None = None,
    unit: Unit = None,
    open_only: OpenOnly = False,
    overdue: Overdue = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[IssuePublic]:
    """Assigned issues of every project, oldest first: the 交办 ledger (台账) of a unit with
    `unit=`, the ones still to close with `open=true`, the late ones with `overdue=true`."""
    return await _page(session, runtime, project_id, unit, open_only, overdue, limit, cursor)


async def _page(
    session: ReadSessionDep,
    runtime: RuntimeDep,
    project_id: str | None,
    unit: str | None,
    open_only: bool,
    overdue: bool,
    limit: int,
    cursor: str | None,
) -> Page[IssuePublic]:
    day = today(runtime.clock)
    rows, next_cursor = await service.page(
        session,
        limit=limit,
        cursor=cursor,
        project_id=project_id,
        unit=unit,
        open_only=open_only,
        overdue_on=day if overdue else None,
    )
    return Page(items=[service.public(r, day) for r in rows], next_cursor=next_cursor)


@router.get("/issues/{issue_id}", response_model=IssuePublic)
async def get_issue(
    issue_id: str, _principal: Authenticated, session: ReadSessionDep, runtime: RuntimeDep
) -> IssuePublic:
    """One assigned issue with its feedback, oldest first."""
    row = await service.get(session, issue_id)
    feedback = await service.feedback_of(session, issue_id)
    return service.public(row, today(runtime.clock), feedback)


@router.post(
    "/issues/{issue_id}/feedback", status_code=status.HTTP_201_CREATED, response_model=IssuePublic
)
async def post_feedback(
    issue_id: str,
    body: FeedbackCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """Records the responsible unit's feedback (反馈) on an open issue; the first one stops the
    3-working-day feedback clock. Emits sanpi.assigned_issue.feedback_added.v1. 422 on a closed
    issue (field issue_id) or an empty text."""
    ctx = Context.of(runtime)
    row, _ = await flows.add_issue_feedback(
        uow, ctx, issue_id=issue_id, body=body, principal=principal, lang=language(accept_language)
    )
    feedback = await service.feedback_of(uow, issue_id)
    return service.public(row, today(ctx.clock), feedback)


@router.post("/issues/{issue_id}/close", response_model=IssuePublic)
async def close_issue(
    issue_id: str,
    body: IssueClose,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    accept_language: AcceptLanguage = None,
) -> IssuePublic:
    """销号: closes a solved issue with its evidence (at least one URI: a permit, a photo
    /v1/evidence/{id} of this project, a letter). R12 falls silent on it and its alert resolves.
    Emits sanpi.assigned_issue.closed.v1. 422 without evidence, on an issue already closed, or
    with closed_on before raised_on."""
    ctx = Context.of(runtime)
    row = await flows.close_issue(
        uow, ctx, issue_id=issue_id, body=body, principal=principal, lang=language(accept_language)
    )
    feedback = await service.feedback_of(uow, issue_id)
    return service.public(row, today(ctx.clock), feedback)
