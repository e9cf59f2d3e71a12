"""HTTP routes of evidence: upload a project's photo, list a project's photos, read one's bytes."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    NotFound,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
)
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.milestone.evidence import messages as refusals
from sanpi.milestone.evidence import service
from sanpi.milestone.evidence.images import FORMATS
from sanpi.milestone.evidence.schemas import EvidenceFilePublic
from sanpi.milestone.evidence.storage import EvidenceStore
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.settings import settings_of

log = logging.getLogger("sanpi.milestone.evidence")

router = APIRouter(prefix="/projects", tags=["evidence"])
files_router = APIRouter(prefix="/evidence", tags=["evidence"])


@router.post(
    "/{project_id}/evidence",
    status_code=201,
    response_model=EvidenceFilePublic,
    responses={200: {"model": EvidenceFilePublic, "description": "already uploaded: that one"}},
)
async def upload_evidence(
    project_id: str,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    file: Annotated[
        UploadFile | None, File(description="the photo: JPEG, PNG or WebP, up to 10 MB")
    ] = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    """Stores a site photo of a project (operator of its park, or admin) as multipart/form-data
    field `file`: its SHA-256, size, type (read from the bytes), pixel size and EXIF capture day.
    Cite its `uri` in a milestone's evidence. Refuses what is not a JPEG, PNG or WebP image, a
    file above the size limit (413) and images declaring more pixels than the limit (a
    decompression bomb), with problem+json naming `file` (Chinese unless Accept-Language: en).
    The same photo uploaded again for the project answers 200 with the first upload."""
    settings = settings_of(runtime)
    lang = language(accept_language)
    if file is None:
        raise service.no_file(lang)
    data = await file.read(settings.evidence_max_bytes + 1)
    if len(data) > settings.evidence_max_bytes:
        raise service.too_large(settings.evidence_max_bytes, lang)
    row, created = await service.upload(
        uow,
        project_id=project_id,
        data=data,
        filename=file.filename,
        principal=principal,
        store=EvidenceStore(settings.effective_evidence_dir),
        max_pixels=settings.evidence_max_pixels,
        lang=lang,
    )
    body = EvidenceFilePublic.of(row).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/{project_id}/evidence", response_model=Page[EvidenceFilePublic])
async def list_evidence(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[EvidenceFilePublic]:
    """The project's uploaded photos, oldest first."""
    await lifecycle.get(session, project_id)
    rows, next_cursor = await service.page(
        session, project_id=project_id, limit=limit, cursor=cursor
    )
    return Page(items=[EvidenceFilePublic.of(r) for r in rows], next_cursor=next_cursor)


@files_router.get(
    "/{evidence_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in FORMATS.values()}, "description": "the photo"}},
)
async def get_evidence(
    evidence_id: str, _principal: Authenticated, session: ReadSessionDep, runtime: RuntimeDep
) -> FileResponse:
    """The photo's bytes, with its content type (any authenticated reader)."""
    row = await service.get(session, evidence_id)
    store = EvidenceStore(settings_of(runtime).effective_evidence_dir)
    path = store.path(row.sha256)
    if not path.is_file():
        log.error("evidence %s: file %s missing from the store", row.id, path)
        raise NotFound(refusals.FILE_GONE(evidence_id=evidence_id))
    disposition = f"inline; filename*=UTF-8''{quote(row.filename or row.id)}"
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={
            "ETag": f'"{row.sha256}"',
            # The bytes of an id never change (content-addressed).
            "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": disposition,
        },
    )
