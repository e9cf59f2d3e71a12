"""Pages of projects: 我的项目 (the list, with filters and search) and 项目详情, where a writer of
the park assigns a 交办事项."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sanpi.client.sdk.base import ApiError
from sanpi.events import ChainTag, IssueCategory, IssueTerm, Stage
from sanpi.portal import forms
from sanpi.portal.i18n import _, report_period
from sanpi.portal.issues.schemas import RaiseForm
from sanpi.portal.labels import (
    CHAINS,
    ISSUE_CATEGORIES,
    ISSUE_TERMS,
    SEVERITIES,
    SEVERITY_ORDER,
    STAGES,
    label,
)
from sanpi.portal.projects import service
from sanpi.portal.projects.schemas import ListFilters
from sanpi.portal.security import CSRF_FIELD
from sanpi.portal.upstream import apis_of, call
from sanpi.portal.web import FormDep, RecordId, VisitorDep, redirect, render, settings

router = APIRouter()


@router.get("/")
@router.get("/projects")
async def my_projects(request: Request, visitor: VisitorDep) -> Response:
    apis = apis_of(request, visitor)
    reference = request.app.state.reference
    parks = await reference.parks_for(apis, visitor)
    periods = await reference.periods(apis)
    raw = forms.values(request.query_params)
    filters, errors = forms.list_filters(ListFilters, raw, parks)
    page = await service.my_projects(
        apis,
        filters=filters,
        parks=reference.scope(visitor),
        page_size=settings(request).page_size,
    )
    rows = [{**item, "deadline": service.next_deadline(item)} for item in page.items]
    return render(
        request,
        "projects/list.html",
        {
            "rows": rows,
            "next_cursor": page.next_cursor,
            "as_of": page.as_of,
            "notice": page.notice,
            "errors": errors,
            "filters": filters,
            "values": raw,
            "park_options": [(p, p) for p in parks],
            "stage_options": [(s.value, label(STAGES, s)) for s in Stage],
            "period_options": [
                (str(p["number"]), _("Period %(n)s", n=p["number"])) for p in periods
            ],
            "chain_options": [(c.value, label(CHAINS, c)) for c in ChainTag],
            "colour_options": [(c.value, label(SEVERITIES, c)) for c in SEVERITY_ORDER],
        },
    )


@router.get("/projects/{project_id}")
async def project_page(
    request: Request,
    project_id: RecordId,
    visitor: VisitorDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    reported: Annotated[str | None, Query(max_length=16)] = None,
    raised: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    notice = None
    if reported:
        notice = _("Report for %(period)s submitted.", period=report_period(reported))
    elif raised:
        notice = _("Issue assigned; the responsible unit owes its feedback within 3 working days.")
    return await project_response(request, project_id, visitor, year=year, notice=notice)


async def project_response(
    request: Request,
    project_id: str,
    visitor: VisitorDep,
    *,
    year: int | None = None,
    notice: str | None = None,
    issue_values: dict[str, Any] | None = None,
    issue_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    apis = apis_of(request, visitor)
    detail = await service.project_detail(apis, project_id, year=year)
    park = detail.project.get("park")
    return render(
        request,
        "projects/detail.html",
        {
            "d": detail,
            "p": detail.project,
            "may_write": visitor.may_write_park(park),
            "evidence_id": service.evidence_id,
            "notice": notice,
            "issue_values": {"category": IssueCategory.OTHER.value, **(issue_values or {})},
            "issue_errors": issue_errors or {},
            "category_options": [(c.value, label(ISSUE_CATEGORIES, c)) for c in IssueCategory],
            "term_options": [(t.value, label(ISSUE_TERMS, t)) for t in IssueTerm],
        },
        status=status,
    )


@router.post("/projects/{project_id}/issues")
async def raise_issue(
    request: Request, project_id: RecordId, visitor: VisitorDep, form: FormDep
) -> Response:
    """交办: a problem of this project assigned to a responsible unit, from the project's page
    (the service checks the visitor's park)."""
    raw = forms.values(form)
    raw.pop(CSRF_FIELD, None)
    parsed, errors = forms.parse(RaiseForm, raw)
    if parsed is not None and not visitor.is_writer:
        errors["description"] = _("Only administrators and park operators assign issues.")
    if parsed is not None and not errors:
        body = parsed.model_dump(mode="json", exclude_none=True)
        try:
            await call(apis_of(request, visitor).milestone.raise_issue, project_id, body)
        except ApiError as exc:
            if exc.status in (401, 403):
                errors["description"] = _("You may not assign issues on this park's projects.")
            elif exc.status == 422:
                # The service's reasons, by field (in Chinese: it answers so by default).
                for problem in exc.problem.get("errors") or []:
                    name = str(problem.get("field") or "").rsplit(".", 1)[-1]
                    if name in RaiseForm.model_fields:
                        errors.setdefault(name, str(problem.get("reason") or ""))
                errors.setdefault("description", _("The service refused the request."))
            else:
                raise
    if errors:
        return await project_response(
            request, project_id, visitor, issue_values=raw, issue_errors=errors, status=422
        )
    return redirect(f"/projects/{project_id}?raised=1#issues")


@router.get("/evidence/{evidence_id}")
async def evidence(request: Request, evidence_id: RecordId, visitor: VisitorDep) -> Response:
    """A site photo, fetched from the milestone service as the visitor (an <img> cannot send
    the visitor's token to the service, and the browser asks no host but the portal)."""
    apis = apis_of(request, visitor)
    data = await call(apis.milestone.evidence_bytes, evidence_id)
    return Response(
        data,
        media_type=service.image_type(data),
        headers={"Cache-Control": "private, max-age=86400"},
    )
