"""Pages of alerts: the open list (and the acknowledged one) with the acknowledgement form, and
the 红黄榜 ranking of the parks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sanpi.client.sdk.base import ApiError
from sanpi.events import AlertRule
from sanpi.portal import forms
from sanpi.portal.alerts import service
from sanpi.portal.alerts.schemas import AcknowledgeForm, AlertFilters
from sanpi.portal.i18n import _
from sanpi.portal.labels import RULES, SEVERITIES, SEVERITY_ORDER, label
from sanpi.portal.upstream import apis_of, call
from sanpi.portal.web import FormDep, VisitorDep, redirect, render, settings

router = APIRouter()


@router.get("/alerts")
async def alerts(request: Request, visitor: VisitorDep, acked: bool = False) -> Response:
    apis = apis_of(request, visitor)
    parks = await request.app.state.reference.parks_for(apis, visitor)
    raw = forms.values(request.query_params)
    raw.pop("acked", None)
    filters, errors = forms.list_filters(AlertFilters, raw, parks)
    page = await service.alerts_page(
        apis,
        filters=filters,
        parks=request.app.state.reference.scope(visitor),
        page_size=settings(request).page_size,
    )
    return render(
        request,
        "alerts/list.html",
        {
            "page": page,
            "filters": filters,
            "values": raw,
            "errors": errors,
            "notice": _("Alert acknowledged.") if acked else None,
            "park_options": [(p, p) for p in parks],
            "rule_options": [(r.value, f"{r.value} {label(RULES, r)}") for r in AlertRule],
            "severity_options": [(s.value, label(SEVERITIES, s)) for s in SEVERITY_ORDER],
        },
    )


@router.post("/alerts/ack")
async def acknowledge(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """Acknowledges one alert with a note, as the visitor (the service checks the park)."""
    htmx = "hx-request" in request.headers
    parsed, errors = forms.parse(AcknowledgeForm, forms.values(form))
    if parsed is not None and not visitor.is_writer:
        errors["note"] = _("Only administrators and park operators acknowledge alerts.")
    if parsed is not None and not errors:
        apis = apis_of(request, visitor)
        try:
            await call(apis.notification.acknowledge_alert, parsed.alert_key, parsed.note)
        except ApiError as exc:
            if exc.status in (401, 403):
                errors["note"] = _("You may not acknowledge alerts of this park.")
            elif exc.status == 404:
                errors["note"] = _("This alert is not known (yet) to the notification service.")
            elif exc.status == 422:
                errors["note"] = _("At most %(n)s characters.", n=500)
            else:
                raise
    if errors:
        context = {
            "key": str(form.get("alert_key") or ""),
            "item": parsed.item if parsed else None,
            "errors": errors,
            "values": forms.values(form),
        }
        if htmx:
            return render(request, "alerts/_ack_form.html", context, status=422)
        return render(request, "alerts/ack_refused.html", context, status=422)
    assert parsed is not None
    if htmx:
        swap = {"HX-Retarget": f"#{parsed.item}", "HX-Reswap": "outerHTML"} if parsed.item else {}
        return render(request, "alerts/_acked.html", {"note": parsed.note}, headers=swap)
    return redirect("/alerts?acked=1")


# Parks per page of the ranking: a district has four, a province hundreds.
RANKING_PAGE = 30


@router.get("/alerts/ranking")
async def ranking(
    request: Request,
    visitor: VisitorDep,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    ranks = await service.park_ranking(apis_of(request, visitor))
    shown = ranks[(page - 1) * RANKING_PAGE : page * RANKING_PAGE]
    return render(
        request,
        "alerts/ranking.html",
        {
            "ranks": shown,
            "total": len(ranks),
            "chart": service.ranking_chart(shown),
            "colours": SEVERITY_ORDER,
            "next_page": page + 1 if page * RANKING_PAGE < len(ranks) else None,
            "first_page": page > 1,
        },
    )
