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
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.office import sheets
from sanpi.office.sheets import MEDIA_TYPES, SheetFormat
from sanpi.registry.imports import service
from sanpi.registry.imports.columns import COLUMNS
from sanpi.registry.imports.schemas import ImportReport
from sanpi.registry.projects.endpoints import FilterDep
from sanpi.registry.projects.schemas import ProjectSort
from sanpi.registry.settings import settings_of

router = APIRouter(prefix="/projects", tags=["import and export"])

HeadersLanguage = Annotated[str, Query(pattern="^(zh|en)$", description="header language")]


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
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    """Imports a ledger sheet (.xlsx, or .csv in UTF-8 or GBK) with Chinese or English headers,
    found by their names below any title rows. A row with a 项目ID (else a 项目代码) of the
    registry updates that project with the fields that differ (one project.updated each, naming
    them and who changed them); a row without creates a project; a row whose 版本 is older than
    the project's is refused as a conflict. `dry_run=true` answers 200 with each row's outcome
    (create, update with its changes, unchanged, error); a real run writes every row (201) or
    none (422 listing every bad row). Messages are Chinese unless Accept-Language asks for en."""
    settings = settings_of(runtime)
    lang = language(accept_language)
    content = await file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        said = (
            f"文件超过 {settings.import_max_bytes} 字节：请拆分"
            if lang == "zh"
            else f"the file is larger than {settings.import_max_bytes} bytes: split it"
        )
        raise InvalidInput(said, errors=[FieldProblem("file", said)])

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
            lang=lang,
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
        payload={"sha256": hashlib.sha256(content).hexdigest(), "format": format, "lang": lang},
        action=run,
    )


@router.get(
    "/template",
    responses={200: {"content": {MEDIA_TYPES[f]: {} for f in SheetFormat}}},
    response_class=Response,
)
async def template(
    _principal: Authenticated,
    runtime: RuntimeDep,
    format: Annotated[SheetFormat, Query(description="xlsx (a CSV has no dropdowns)")] = (
        SheetFormat.XLSX
    ),
    headers: HeadersLanguage = "zh",
) -> Response:
    """An empty ledger to fill in and import: a title, a note row giving each column's unit
    (万元) and format, the header (frozen), and dropdowns for parks, chains, categories, stages
    and 是/否."""
    settings = settings_of(runtime)
    if format is SheetFormat.CSV:
        content = sheets.write_csv([c.header(headers == "zh") for c in COLUMNS], [])
    else:
        content = service.template(
            chinese=headers == "zh", parks=settings.parks, district=settings.district
        )
    name = f"sanpi-projects-template.{format.value}"
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/export",
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
    response_class=Response,
)
async def export_projects(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    filters: FilterDep,
    format: SheetFormat = SheetFormat.XLSX,
    headers: HeadersLanguage = "zh",
    sort: ProjectSort = ProjectSort.CREATED,
) -> Response:
    """The filtered ledger as CSV or XLSX, in the columns the import reads back: edit it and
    import it again to update the projects (版本 finds edits made meanwhile). The XLSX has the
    template's notes, dropdowns and frozen header; no cell is ever a formula."""
    settings = settings_of(runtime)
    content = await service.export_sheet(
        session,
        filters=filters,
        sort=sort,
        fmt=format,
        chinese=headers == "zh",
        parks=settings.parks,
        district=settings.district,
    )
    name = f"sanpi-projects.{format.value}"
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
