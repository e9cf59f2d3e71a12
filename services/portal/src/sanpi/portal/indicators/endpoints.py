"""The indicators page: charts and a table for the district and each park, as of a day; the
bulletin (通报) of a 旬 or month as its PDF (what a 旬 digest's robot message links to)."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from sanpi.kit import today
from sanpi.kit.clock import SystemClock
from sanpi.portal import forms
from sanpi.portal.indicators import service
from sanpi.portal.indicators.schemas import IndicatorQuery
from sanpi.portal.projects import service as projects
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import VisitorDep, render

router = APIRouter()
PERIOD = re.compile(r"\d{4}-\d{2}(-X[123])?")


@router.get("/indicators")
async def indicators(request: Request, visitor: VisitorDep) -> Response:
    apis: Apis = request.app.state.upstream.as_user(visitor)
    raw = forms.values(request.query_params)
    query, errors = forms.parse(IndicatorQuery, raw)
    if query is None:
        query = IndicatorQuery()
    # By default the day the rules are evaluated for: today, or the day a demo pinned.
    day = query.as_of or await projects.evaluation_day(apis) or today(SystemClock())
    year = query.year or day.year
    district, parks = await request.app.state.reference.district(apis)
    scopes = await service.indicators(apis, district=district, parks=parks, year=year, as_of=day)
    return render(
        request,
        "indicators/page.html",
        {
            "scopes": scopes,
            "district": scopes[0],
            "as_of": day,
            "year": year,
            "values": {"as_of": day.isoformat(), "year": str(year), **raw},
            "errors": errors,
            "rates_chart": service.rates_chart(scopes),
            "targets_chart": service.targets_chart(scopes[0]),
            "target_rows": [(s["label"], t) for s in scopes for t in s.get("targets", [])],
            "rate_names": service.rate_names(),
            "published_names": service.published_names(),
            "money_rates": service.MONEY_RATES,
        },
    )


@router.get("/bulletins/{period}.pdf")
async def bulletin_pdf(request: Request, period: str, visitor: VisitorDep) -> Response:
    """The milestone service's PDF, asked for as the logged-in user (any role reads it)."""
    if not PERIOD.fullmatch(period):
        raise HTTPException(404)  # the page says "no such page", never the service's words
    apis: Apis = request.app.state.upstream.as_user(visitor)
    content: bytes = await call(apis.milestone.bulletin, period, "pdf")
    name = quote(f"通报-{period}.pdf")
    return Response(
        content,
        media_type="application/pdf",
        # Inline: a phone opens it in its viewer; the name is RFC 5987 encoded (Chinese).
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"},
    )
