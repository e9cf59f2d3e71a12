"""The administrator's pages beyond accounts: periods (create, hold, close) and their lists,
the ledger's import with a dry run and per-row errors, and its export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sanpi.client.sdk.base import ApiError
from sanpi.events import BatchType
from sanpi.portal import forms
from sanpi.portal.admin import service
from sanpi.portal.admin.schemas import ListingForm, PeriodForm
from sanpi.portal.i18n import _
from sanpi.portal.labels import BATCHES, label
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import AdminDep, FormDep, redirect, render

router = APIRouter()


def _apis(request: Request, visitor: AdminDep) -> Apis:
    apis: Apis = request.app.state.upstream.as_user(visitor)
    return apis


@router.get("/admin")
async def admin_home(_visitor: AdminDep) -> Response:
    return redirect("/admin/accounts")


# --- periods and listings --------------------------------------------------------------------


async def _periods_page(
    request: Request, apis: Apis, *, values: dict[str, Any], errors: dict[str, str], status: int
) -> Response:
    periods = (await call(apis.registry.list_periods)).get("items", [])
    return render(
        request,
        "admin/periods.html",
        {"periods": list(reversed(periods)), "values": values, "errors": errors},
        status=status,
    )


@router.get("/admin/periods")
async def periods(request: Request, visitor: AdminDep) -> Response:
    apis = _apis(request, visitor)
    listed = (await call(apis.registry.list_periods)).get("items", [])
    next_number = max((p["number"] for p in listed), default=0) + 1
    return await _periods_page(
        request, apis, values={"number": str(next_number)}, errors={}, status=200
    )


@router.post("/admin/periods")
async def create_period(request: Request, visitor: AdminDep, form: FormDep) -> Response:
    apis = _apis(request, visitor)
    data = forms.values(form)
    parsed, errors = forms.parse(PeriodForm, data)
    if parsed is not None:
        try:
            await call(apis.registry.create_period, parsed.number, parsed.event_date.isoformat())
        except ApiError as exc:
            if exc.status == 409:
                errors["number"] = _("Period %(n)s exists already.", n=parsed.number)
            elif exc.status == 422:
                errors["event_date"] = _("The registry refused this date.")
            else:
                raise
        else:
            request.app.state.reference.forget()
            return redirect(f"/admin/periods/{parsed.number}?created=1")
    return await _periods_page(request, apis, values=data, errors=errors, status=422)


@router.post("/admin/periods/{number}/listings")
async def add_listing(request: Request, number: int, visitor: AdminDep, form: FormDep) -> Response:
    apis = _apis(request, visitor)
    parsed, _errors = forms.parse(ListingForm, forms.values(form))
    if parsed is None:
        return redirect(f"/admin/periods/{number}?refused=1")
    try:
        await call(apis.registry.add_listing, parsed.project, number, str(parsed.batch))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        return redirect(f"/admin/periods/{number}?refused=1")
    return redirect(f"/admin/periods/{number}?listed=1")


@router.post("/admin/periods/{number}/{action}")
async def move_period(
    request: Request, number: int, action: str, visitor: AdminDep, _form: FormDep
) -> Response:
    if action not in ("hold", "close") or not 1 <= number <= 1000:
        return render(
            request,
            "error.html",
            {"status": 404, "title": _("Not found"), "detail": _("There is no such page.")},
            status=404,
        )
    apis = _apis(request, visitor)
    try:
        await call(apis.registry.move_period, number, action)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return redirect(f"/admin/periods/{number}?refused=1")
    request.app.state.reference.forget()
    return redirect(f"/admin/periods/{number}")


@router.get("/admin/periods/{number}")
async def period_page(
    request: Request,
    number: int,
    visitor: AdminDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    created: bool = False,
    listed: bool = False,
    refused: bool = False,
) -> Response:
    apis = _apis(request, visitor)
    period = await call(apis.registry.get_period, number)
    page = await call(apis.registry.list_listings, period=number, limit=100, cursor=cursor)
    listings = list(page.get("items", []))
    names = await service.names_of(apis, [x["project_id"] for x in listings])
    found: list[dict[str, Any]] = []
    if q:
        found = (await call(apis.registry.list_projects, q=q, limit=20)).get("items", [])
    notice = None
    if created:
        notice = _("Period created.")
    elif listed:
        notice = _("The project is on the list.")
    return render(
        request,
        "admin/period.html",
        {
            "period": period,
            "listings": service.listing_rows(listings, names),
            "next_cursor": page.get("next_cursor"),
            "found": found,
            "q": q or "",
            "notice": notice,
            "problem": _("The registry refused: the period is closed, or the step does not follow.")
            if refused
            else None,
            "batch_options": [(b.value, label(BATCHES, b)) for b in BatchType],
            "values": {"cursor": cursor} if cursor else {},
        },
    )


# --- the ledger -------------------------------------------------------------------------------


@router.get("/admin/ledger")
async def ledger(request: Request, _visitor: AdminDep) -> Response:
    return render(request, "admin/ledger.html", {"report": None})


@router.post("/admin/ledger")
async def import_ledger(request: Request, visitor: AdminDep, form: FormDep) -> Response:
    """Checks (dry run) or imports a sheet; every refused row is listed with its column."""
    apis = _apis(request, visitor)
    upload = form.get("file")
    dry_run = form.get("mode") != "import"
    errors: dict[str, str] = {}
    report: dict[str, Any] | None = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = _("Choose the sheet (.xlsx or .csv).")
    else:
        content = await upload.read()
        try:
            report = await call(
                apis.registry.import_sheet, upload.filename, content, dry_run=dry_run
            )
        except ApiError as exc:
            if exc.status == 422 and "errors" in exc.problem and not dry_run:
                report = {
                    "dry_run": False,
                    "rows": None,
                    "valid_rows": None,
                    "created": 0,
                    "errors": [
                        _problem_row(str(p.get("field", "")), str(p.get("reason", "")))
                        for p in exc.problem["errors"]
                    ],
                }
            elif exc.status in (413, 422):
                errors["file"] = _("The registry could not read this file as a ledger sheet.")
            else:
                raise
    failed = bool(errors) or bool(report and report.get("errors"))
    return render(
        request,
        "admin/ledger.html",
        {"report": report, "errors": errors, "dry_run": dry_run},
        status=422 if failed else 200,
    )


def _problem_row(field: str, reason: str) -> dict[str, Any]:
    """`row 3: 总投资(万元)` (the registry's problem of a refused import) as a table row."""
    head, _sep, column = field.partition(": ")
    row = head.removeprefix("row ").strip()
    return {"row": int(row) if row.isdigit() else None, "column": column, "reason": reason}


@router.get("/admin/ledger/export")
async def export_ledger(
    request: Request,
    visitor: AdminDep,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",
) -> Response:
    apis = _apis(request, visitor)
    content = await call(apis.registry.export_sheet, format)
    media = (
        "text/csv; charset=utf-8"
        if format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="sanpi-ledger.{format}"'},
    )
