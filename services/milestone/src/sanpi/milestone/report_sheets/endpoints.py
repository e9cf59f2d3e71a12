"""HTTP routes of the report sheets: GET /v1/progress/template, POST /v1/progress/import."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from sanpi.events.xun import parse_period
from sanpi.kit import (
    Authenticated,
    FieldProblem,
    IdempotencyKey,
    InvalidInput,
    ReadSessionDep,
    UnitOfWorkDep,
    Writer,
    run_idempotent,
)
from sanpi.kit.app import get_runtime
from sanpi.kit.messages import AcceptLanguage, language, quoted
from sanpi.milestone import flows
from sanpi.milestone.flows import Context
from sanpi.milestone.progress import service as progress
from sanpi.milestone.progress.messages import PERIOD_INVALID
from sanpi.milestone.report_sheets import service
from sanpi.milestone.report_sheets.schemas import SheetImportResult
from sanpi.office.sheets import SheetError

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
        reason = PERIOD_INVALID(input=quoted(period), reason=str(exc))
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


@router.post("/import", response_model=SheetImportResult)
async def import_sheet(
    file: Annotated[UploadFile, File(description="the filled 旬报/月报 sheet: .xlsx or .csv")],
    principal: Writer,
    uow: UnitOfWorkDep,
    request: Request,
    all_or_nothing: Annotated[
        bool, Query(description="true: one refused row and nothing is written")
    ] = False,
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    """Imports a 旬报/月报 sheet, one row per project (the template's columns, or the report's
    field names, or their labels; title rows above the header are skipped): every row goes
    through POST /v1/progress/batch's checks and writes, with the same events as single
    reports. Answers 200 with each row's outcome (accepted, late, duplicate of an identical
    stored report, refused with the reason as a line of the sheet: 第 12 行「累计完成投资」：…);
    the good rows are kept unless all_or_nothing."""
    ctx = Context.of(get_runtime(request))
    settings = ctx.settings
    lang = language(accept_language)
    content = await file.read(settings.report_sheet_max_bytes + 1)
    if len(content) > settings.report_sheet_max_bytes:
        said = (
            f"文件超过 {settings.report_sheet_max_bytes} 字节：请拆分"
            if lang == "zh"
            else f"the file is larger than {settings.report_sheet_max_bytes} bytes: split it"
        )
        raise InvalidInput(said, errors=[FieldProblem("file", said)])
    try:
        # Seconds of CPU for a big sheet: off the event loop, within the shared reader's bounds.
        read = await asyncio.to_thread(
            service.read_sheet, content, file.filename, settings.report_sheet_max_rows
        )
    except SheetError as exc:
        said = exc.text(lang)
        raise InvalidInput(said, errors=[FieldProblem("file", said)]) from exc

    async def write() -> tuple[SheetImportResult, dict[str, str]]:
        outcomes = await flows.report_batch(
            uow,
            ctx,
            progress.read_rows([body for _, body in read.rows]),
            principal=principal,
            all_or_nothing=all_or_nothing,
        )
        return service.results(read, outcomes, lang), {}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/progress/import",
        payload={
            "sha256": hashlib.sha256(content).hexdigest(),
            "all_or_nothing": all_or_nothing,
            "lang": lang,
        },
        action=write,
        status_code=200,
    )
