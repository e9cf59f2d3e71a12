"""Pages of 填报: the project picker, a milestone with a photo, a 旬报/月报, the batch 旬报."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sanpi.events import MilestoneKind
from sanpi.portal import forms
from sanpi.portal.i18n import _
from sanpi.portal.labels import MILESTONES, NEEDS_EVIDENCE, REPORTING_STAGES, label
from sanpi.portal.projects import service as projects
from sanpi.portal.reports import service
from sanpi.portal.reports.schemas import BatchHead, MilestoneForm, ProgressForm, ReportFields
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import (
    ID_PATTERN,
    FormDep,
    NotAllowed,
    WriterDep,
    redirect,
    render,
    settings,
)

router = APIRouter()

ProjectParam = Annotated[str, Query(pattern=ID_PATTERN)]
# The milestone a project most likely reports next, by stage (what the form offers first).
NEXT_MILESTONE = {
    "SIGNED": "STARTED",
    "FULFILLING": "STARTED",
    "UNDER_CONSTRUCTION": "IN_PRODUCTION",
    "IN_PRODUCTION": "EFFECTIVE",
}
# Rows of the batch page: one screenful of a park's projects at a time.
BATCH_PAGE = 50


def _apis(request: Request, visitor: WriterDep) -> Apis:
    apis: Apis = request.app.state.upstream.as_user(visitor)
    return apis


def _kind_options() -> list[tuple[str, str]]:
    return [(k.value, label(MILESTONES, k)) for k in MilestoneKind]


@router.get("/report")
async def hub(
    request: Request,
    visitor: WriterDep,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    apis = _apis(request, visitor)
    page = await call(
        apis.milestone.project_summaries,
        park=request.app.state.reference.scope(visitor),
        limit=settings(request).page_size,
        cursor=cursor,
    )
    rows = [{**r, "deadline": projects.next_deadline(r)} for r in page["items"]]
    return render(
        request,
        "reports/hub.html",
        {
            "rows": rows,
            "next_cursor": page.get("next_cursor"),
            "values": {"cursor": cursor} if cursor else {},
        },
    )


# --- a milestone -------------------------------------------------------------------------------


@router.get("/report/milestone")
async def milestone_form(request: Request, visitor: WriterDep, project: ProjectParam) -> Response:
    apis = _apis(request, visitor)
    found = await service.writable_project(apis, visitor, project)
    as_of = await projects.evaluation_day(apis)
    return render(
        request,
        "reports/milestone.html",
        {
            "project": found,
            "kind_options": _kind_options(),
            "values": {
                "kind": NEXT_MILESTONE.get(str(found.get("stage")), "STARTED"),
                "date": as_of.isoformat() if as_of else "",
            },
            "needs_photo": [k.value for k in NEEDS_EVIDENCE],
        },
    )


@router.post("/report/milestone")
async def post_milestone(request: Request, visitor: WriterDep, form: FormDep) -> Response:
    apis = _apis(request, visitor)
    data = forms.values(form)
    parsed, errors = forms.parse(MilestoneForm, data)
    project_id = str(data.get("project") or "")
    found = await service.writable_project(apis, visitor, project_id)
    upload = form.get("photo")
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        if content:
            photo = (upload.filename, content)
    if parsed is not None and parsed.kind in NEEDS_EVIDENCE and photo is None:
        errors["photo"] = _("A start or production milestone needs a dated site photo.")
    if parsed is not None and not errors:
        body: dict[str, Any] = {"kind": str(parsed.kind), "date": parsed.date.isoformat()}
        if parsed.label:
            body["label"] = parsed.label
        posted = await service.post_milestone(apis, project_id=project_id, body=body, photo=photo)
        if posted.answer is not None:
            return render(
                request,
                "reports/milestone_done.html",
                {"project": found, "answer": posted.answer},
                status=201,
            )
        errors = posted.errors
    return render(
        request,
        "reports/milestone.html",
        {
            "project": found,
            "kind_options": _kind_options(),
            "values": data,
            "errors": errors,
            "needs_photo": [k.value for k in NEEDS_EVIDENCE],
        },
        status=422,
    )


# --- one report --------------------------------------------------------------------------------


async def _progress_context(apis: Apis, project: dict[str, Any]) -> dict[str, Any]:
    as_of = await projects.evaluation_day(apis)
    if as_of is None:
        raise NotAllowed(_("The milestone service does not know this project yet."))
    summary = await call(apis.milestone.project_summaries, ids=[project["id"]], limit=1)
    items = summary.get("items", [])
    return {
        "project": project,
        "summary": items[0] if items else None,
        "period_options": service.period_choices(as_of),
        "default_period": (items[0].get("report_due") or {}).get("period_key") if items else None,
        "as_of": as_of,
    }


@router.get("/report/progress")
async def progress_form(request: Request, visitor: WriterDep, project: ProjectParam) -> Response:
    apis = _apis(request, visitor)
    found = await service.writable_project(apis, visitor, project)
    context = await _progress_context(apis, found)
    period = context["default_period"] or service.default_period(context["as_of"])
    return render(request, "reports/progress.html", {**context, "values": {"period_key": period}})


@router.post("/report/progress")
async def post_progress(request: Request, visitor: WriterDep, form: FormDep) -> Response:
    apis = _apis(request, visitor)
    data = forms.values(form)
    data["correction"] = data.get("correction") == "on"
    found = await service.writable_project(apis, visitor, str(data.get("project") or ""))
    parsed, errors = forms.parse(ProgressForm, data)
    if parsed is not None:
        (outcome,) = await service.submit_reports(apis, [parsed.body()])
        if outcome.status != "refused":
            return redirect(f"/projects/{found['id']}?reported={parsed.period_key}")
        errors = {
            (k if k in ProgressForm.model_fields else "__all__"): v
            for k, v in outcome.errors.items()
        }
    context = await _progress_context(apis, found)
    return render(
        request, "reports/progress.html", {**context, "values": data, "errors": errors}, status=422
    )


# --- the batch 旬报 ---------------------------------------------------------------------------


async def _batch_rows(
    apis: Apis, parks: list[str] | None, park: str | None, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    page = await call(
        apis.milestone.project_summaries,
        park=[park] if park else parks,
        limit=BATCH_PAGE,
        cursor=cursor,
    )
    rows = [r for r in page["items"] if r["stage"] in REPORTING_STAGES]
    return rows, page.get("next_cursor")


@router.get("/report/batch")
async def batch_form(
    request: Request,
    visitor: WriterDep,
    period_key: Annotated[str | None, Query(max_length=16)] = None,
    park: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    apis = _apis(request, visitor)
    parks = await request.app.state.reference.parks_for(apis, visitor)
    as_of = await projects.evaluation_day(apis)
    errors: dict[str, str] = {}
    chosen = period_key or (service.default_period(as_of) if as_of else None)
    head, head_errors = forms.parse(BatchHead, {"period_key": chosen} if chosen else {})
    errors.update(head_errors)
    if park and park not in parks:
        errors["park"] = _("You do not work on this park.")
        park = None
    rows, next_cursor = await _batch_rows(apis, parks, park, cursor)
    return render(
        request,
        "reports/batch.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "period_options": [(k, v) for k, v in service.period_choices(as_of) if "-X" in k]
            if as_of
            else [],
            "values": {"period_key": head.period_key if head else "", "park": park or ""},
            "errors": errors,
            "park_options": [(p, p) for p in parks],
            "row_values": {},
            "row_errors": {},
            "row_status": {},
        },
    )


@router.post("/report/batch")
async def post_batch(request: Request, visitor: WriterDep, form: FormDep) -> Response:
    """Every row with figures is checked; the good ones are written at once, the others come
    back with their error beside them and what was typed."""
    apis = _apis(request, visitor)
    parks = await request.app.state.reference.parks_for(apis, visitor)
    head, errors = forms.parse(BatchHead, forms.values(form))
    project_ids = [str(v) for v in form.getlist("project")]
    row_values: dict[str, dict[str, Any]] = {}
    row_errors: dict[str, dict[str, str]] = {}
    row_status: dict[str, str] = {}
    to_send: list[tuple[str, dict[str, Any]]] = []
    for index, project_id in enumerate(project_ids):
        typed = {
            name: str(form.get(f"{name}-{index}") or "").strip()
            for name in (
                "completed_investment_cum",
                "completed_investment_ytd",
                "physical_progress_pct",
                "narrative",
            )
        }
        if not any(typed.values()):
            continue  # a row left blank is not reported
        row_values[project_id] = typed
        parsed, problems = forms.parse(ReportFields, {k: v for k, v in typed.items() if v})
        if parsed is None or head is None:
            row_errors[project_id] = problems
            row_status[project_id] = "refused"
            continue
        to_send.append(
            (project_id, {**parsed.body(), "project_id": project_id, "period_key": head.period_key})
        )
    outcomes = await service.submit_reports(apis, [body for _pid, body in to_send])
    for (project_id, _body), outcome in zip(to_send, outcomes, strict=True):
        row_status[project_id] = outcome.status
        if outcome.errors:
            row_errors[project_id] = outcome.errors
    park = str(form.get("park") or "") or None
    if park and park not in parks:
        park = None
    cursor = str(form.get("cursor") or "") or None
    scope = request.app.state.reference.scope(visitor)
    rows, next_cursor = await _batch_rows(apis, scope, park, cursor)
    as_of = await projects.evaluation_day(apis)
    accepted = sum(1 for s in row_status.values() if s in ("accepted", "late", "duplicate"))
    refused = sum(1 for s in row_status.values() if s == "refused")
    return render(
        request,
        "reports/batch.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "period_options": [(k, v) for k, v in service.period_choices(as_of) if "-X" in k]
            if as_of
            else [],
            "values": {
                "period_key": head.period_key if head else "",
                "park": park or "",
                "cursor": cursor,
            },
            "errors": errors,
            "park_options": [(p, p) for p in parks],
            "row_values": row_values,
            "row_errors": row_errors,
            "row_status": row_status,
            "summary": {"accepted": accepted, "refused": refused},
        },
        status=200 if refused == 0 else 422,
    )
