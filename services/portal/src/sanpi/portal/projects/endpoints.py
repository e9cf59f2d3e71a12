"""Pages of projects: 我的项目 (the list, with filters and search) and 项目详情."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sanpi.events import ChainTag, Stage
from sanpi.portal import forms
from sanpi.portal.i18n import _, report_period
from sanpi.portal.labels import CHAINS, SEVERITIES, SEVERITY_ORDER, STAGES, label
from sanpi.portal.projects import service
from sanpi.portal.projects.schemas import ListFilters
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import RecordId, VisitorDep, render, settings

router = APIRouter()


def apis_of(request: Request, visitor: VisitorDep) -> Apis:
    apis: Apis = request.app.state.upstream.as_user(visitor)
    return apis


@router.get("/")
@router.get("/projects")
async def my_projects(request: Request, visitor: VisitorDep) -> Response:
    apis = apis_of(request, visitor)
    reference = request.app.state.reference
    parks = await reference.parks_for(apis, visitor)
    periods = await reference.periods(apis)
    raw = forms.values(request.query_params)
    filters, errors = forms.parse(ListFilters, raw)
    if filters is None:
        # Keep the valid filters, drop the bad ones (each named beside its field).
        filters = ListFilters.model_validate({k: v for k, v in raw.items() if k not in errors})
    if filters.park and filters.park not in parks:
        errors["park"] = _("You do not work on this park.")
        filters = filters.model_copy(update={"park": None})
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
            "notice": _("Report for %(period)s submitted.", period=report_period(reported))
            if reported
            else None,
        },
    )


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
