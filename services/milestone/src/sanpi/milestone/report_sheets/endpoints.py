"""HTTP route of the report sheets: GET /v1/progress/template?period=&park=."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from sanpi.events.xun import parse_period
from sanpi.kit import Authenticated, FieldProblem, InvalidInput, ReadSessionDep
from sanpi.milestone.report_sheets import service

router = APIRouter(prefix="/progress", tags=["progress"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/template", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def template(
    _principal: Authenticated,
    session: ReadSessionDep,
    period: Annotated[str, Query(description="2023-03-X2 (a 旬) or 2023-03 (a month)")],
    park: Annotated[str, Query(min_length=1, max_length=64, description="e.g. 梧桐")],
) -> Response:
    """The 旬报/月报 sheet of a period for one park: a row per project that reports (not
    cancelled, not yet 达效) with its id, name, the period and its last cumulative figure; the
    figures to fill have their units in the note row, number checks and a 是/否 dropdown."""
    try:
        wanted = parse_period(period)
    except ValueError as exc:
        reason = f"应为 2023-03-X2（旬）或 2023-03（月），收到 {period!r}"
        raise InvalidInput(reason, errors=[FieldProblem("period", reason)]) from exc
    content = await service.template(session, period=wanted, park=park)
    name = f"sanpi-progress-{wanted.key}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
        },
    )
