"""HTTP route of the bulletin: GET /v1/bulletins/{period}?format=json|xlsx|pdf."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from sanpi.events.xun import parse_period
from sanpi.kit import (
    Authenticated,
    FieldProblem,
    InvalidInput,
    ReadSessionDep,
    RuntimeDep,
    ServiceUnavailable,
    today,
)
from sanpi.kit.messages import quoted
from sanpi.milestone.bulletins import documents, service
from sanpi.milestone.bulletins import messages as refusals
from sanpi.milestone.bulletins.schemas import Bulletin
from sanpi.milestone.progress.messages import PERIOD_INVALID
from sanpi.milestone.settings import MilestoneSettings
from sanpi.office.pdf import FontMissing

router = APIRouter(prefix="/bulletins", tags=["bulletins"])


class BulletinFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA = {
    BulletinFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    BulletinFormat.PDF: "application/pdf",
}


@router.get(
    "/{period}",
    response_model=Bulletin,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
async def bulletin(
    request: Request,
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    period: Annotated[
        str, Path(description="a 旬 (2023-03-X2) or a month (2023-03)", examples=["2023-03-X2"])
    ],
    format: Annotated[BulletinFormat, Query(description="json, xlsx or pdf (A4)")] = (
        BulletinFormat.JSON
    ),
) -> Response:
    """The 通报 of a 旬 or a month, as of its last day: the district's targets and investment
    against 序时进度, the parks ranked by investment completion with 红/黄/绿 marks, the red
    projects with their rules and responsible units, the projects started and put into
    production in the period, and a chart. The alerts are those an evaluation as of that day
    finds (POST /admin/evaluate?as_of= previews the same); the targets come from the registry."""
    try:
        wanted = parse_period(period)
    except ValueError as exc:
        reason = PERIOD_INVALID(input=quoted(period), reason=str(exc))
        raise InvalidInput(reason, errors=[FieldProblem("period", reason)]) from exc
    settings = runtime.settings
    assert isinstance(settings, MilestoneSettings)
    composed = await service.compose(
        session,
        settings=settings,
        period=wanted,
        today=today(runtime.clock),
        registry=getattr(request.app.state, "registry_transport", None),
    )
    if format is BulletinFormat.JSON:
        return Response(composed.model_dump_json(), media_type="application/json")
    render = documents.xlsx if format is BulletinFormat.XLSX else documents.pdf_bytes
    try:
        # A PDF is a few hundred ms of CPU (layout, font subsetting): off the event loop.
        content = await asyncio.to_thread(render, composed)
    except FontMissing as exc:
        raise ServiceUnavailable(refusals.NO_FONT(why=str(exc))) from exc
    name = f"sanpi-bulletin-{wanted.key}.{format.value}"
    return Response(
        content,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
