"""Pages of 督办 items: the list by park and unit (open ones first due first), the unit's response
(整改说明) and the official's closure (办结), as plain forms that work without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sanpi.client.sdk.base import ApiError
from sanpi.portal import forms
from sanpi.portal.alerts.service import headed, in_language
from sanpi.portal.i18n import N_, _
from sanpi.portal.supervision.schemas import CloseForm, RespondForm, SupervisionFilters
from sanpi.portal.upstream import apis_of, call
from sanpi.portal.web import FormDep, VisitorDep, redirect, render, settings

router = APIRouter()

NOTICES = {
    "responded": N_("Answer sent; an official will close the item."),
    "closed": N_("Item closed."),
}


async def _page(
    request: Request,
    visitor: VisitorDep,
    raw: dict[str, str],
    *,
    notice: str | None = None,
    form_errors: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    apis = apis_of(request, visitor)
    parks = await request.app.state.reference.parks_for(apis, visitor)
    filters, errors = forms.list_filters(SupervisionFilters, raw, parks)
    scope = request.app.state.reference.scope(visitor)
    answer = await call(
        apis.notification.supervision_items,
        status="closed" if filters.tab == "closed" else "active",
        unit=filters.unit,
        park=[filters.park] if filters.park else scope,
        limit=settings(request).page_size,
        cursor=filters.cursor,
    )
    return render(
        request,
        "supervision/list.html",
        {
            "items": [headed(in_language(i)) for i in answer.get("items", [])],
            "next_cursor": answer.get("next_cursor"),
            **forms.item_forms_context(
                raw=raw,
                filters=filters,
                errors=errors,
                form_errors=form_errors,
                notice=notice,
                parks=parks,
            ),
        },
        status=status,
    )


@router.get("/alerts/supervision")
async def supervision(request: Request, visitor: VisitorDep) -> Response:
    raw, notice = forms.with_notice(request.query_params, NOTICES)
    return await _page(request, visitor, raw, notice=notice)


def _refusal(exc: ApiError) -> str:
    return forms.refusal(
        exc,
        forms.Refusals(
            forbidden=_("You may not handle supervision items of this park."),
            missing=_("This supervision item does not exist."),
            closed=_("This supervision item is closed already."),
            invalid={"": _("At most %(n)s characters.", n=2000)},
        ),
    )


@router.post("/alerts/supervision/respond")
async def respond(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """The responsible unit's 整改说明, sent as the visitor (the service checks the park)."""
    parsed, errors = forms.parse(RespondForm, forms.values(form))
    if parsed is not None and not visitor.is_writer:
        errors["response"] = _("Only administrators and park operators answer supervision items.")
    if parsed is not None and not errors:
        try:
            await call(
                apis_of(request, visitor).notification.respond_supervision,
                parsed.item_id,
                parsed.response,
            )
        except ApiError as exc:
            errors["response"] = _refusal(exc)
    if errors:
        written = str(form.get("response") or "").strip()
        if parsed is None and "response" in errors:
            errors["response"] = (
                _("At most %(n)s characters.", n=2000)
                if len(written) > 2000
                else _("Write what was done (整改说明).")
            )
        item = str(form.get("item_id") or "")
        return await _page(request, visitor, {}, form_errors={item: errors}, status=422)
    return redirect("/alerts/supervision?done=responded")


@router.post("/alerts/supervision/close")
async def close(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """办结 by an official, as the visitor."""
    parsed, errors = forms.parse(CloseForm, forms.values(form))
    if parsed is not None and not visitor.is_writer:
        errors["note"] = _("Only administrators and park operators close supervision items.")
    if parsed is not None and not errors:
        try:
            await call(
                apis_of(request, visitor).notification.close_supervision,
                parsed.item_id,
                parsed.note,
            )
        except ApiError as exc:
            errors["note"] = _refusal(exc)
    if errors:
        item = str(form.get("item_id") or "")
        return await _page(request, visitor, {}, form_errors={item: errors}, status=422)
    return redirect("/alerts/supervision?done=closed")
