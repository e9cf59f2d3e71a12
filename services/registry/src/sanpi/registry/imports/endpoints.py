"""HTTP routes of the sheet import (dry run or all-or-nothing) and of the export."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from sanpi.kit import (
    FieldProblem,
    IdempotencyKey,
    InvalidInput,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
    run_idempotent,
)
from sanpi.kit.auth import Authenticated
from sanpi.registry.imports import service
from sanpi.registry.imports.schemas import ImportReport
from sanpi.registry.imports.sheets import MEDIA_TYPES, SheetFormat
from sanpi.registry.projects.endpoints import FilterDep
from sanpi.registry.projects.schemas import ProjectSort
from sanpi.registry.settings import settings_of

router = APIRouter(prefix="/projects", tags=["import and export"])


@router.post(
    "/import",
    response_model=ImportReport,
    status_code=201,
    responses={
        200: {"model": ImportReport, "description": "dry_run=true: the report, nothing written"}
    },
)
async def import_projects(
    file: Annotated[UploadFile, File(description="the sheet: .csv (UTF-8 or GBK) or .xlsx")],
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    dry_run: Annotated[bool, Query(description="check every row, write nothing")] = False,
    format: Annotated[
        SheetFormat | None, Query(description="default: from the file name or its bytes")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Imports projects (and their 签约/开工/投产期次 listings) from a sheet with Chinese or English
    headers. `dry_run=true` answers 200 with every bad row (row, column, reason); a real run creates
    all rows with their events (201) or none (422 with the same rows)."""
    settings = settings_of(runtime)
    content = await file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        raise InvalidInput(
            f"the file is larger than {settings.import_max_bytes} bytes: split it",
            errors=[FieldProblem("file", "too large")],
        )

    async def run() -> tuple[ImportReport, dict[str, str]]:
        report = await service.import_sheet(
            uow,
            content=content,
            filename=file.filename,
            fmt=format,
            dry_run=dry_run,
            principal=principal,
            parks=settings.parks,
            max_rows=settings.import_max_rows,
        )
        return report, {}

    if dry_run:
        report, _ = await run()
        return JSONResponse(report.model_dump(mode="json"), status_code=200)
    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/projects/import",
        payload={"sha256": hashlib.sha256(content).hexdigest(), "format": format},
        action=run,
    )


@router.get(
    "/export",
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
    response_class=Response,
)
async def export_projects(
    _principal: Authenticated,
    session: ReadSessionDep,
    filters: FilterDep,
    format: SheetFormat = SheetFormat.XLSX,
    headers: Annotated[str, Query(pattern="^(zh|en)$", description="header language")] = "zh",
    sort: ProjectSort = ProjectSort.CREATED,
) -> Response:
    """The filtered ledger as CSV or XLSX, in the columns the import reads back (round trip)."""
    content = await service.export_sheet(
        session, filters=filters, sort=sort, fmt=format, chinese=headers == "zh"
    )
    name = f"sanpi-projects.{format.value}"
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
