"""Evidence with I/O: storing an uploaded photo, finding the photos a milestone cites, and the
findings (a photo of another day, or of no day) that R16 counts."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import (
    FieldProblem,
    InvalidInput,
    NotFound,
    Principal,
    Problem,
    UnitOfWork,
    utcnow,
)
from sanpi.kit.messages import FieldMessage, Lang, Message, zh_date
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.milestone.evidence import repository
from sanpi.milestone.evidence.images import Refused, inspect
from sanpi.milestone.evidence.messages import (
    CITES_UNUSABLE,
    DATE_MISMATCH,
    NO_EVIDENCE,
    NO_FILE,
    OTHER_PROJECT,
    TOO_LARGE,
    UNDATED,
    UNKNOWN_EVIDENCE,
    day,
)
from sanpi.milestone.evidence.models import EvidenceFile
from sanpi.milestone.evidence.schemas import evidence_uri
from sanpi.milestone.evidence.storage import EvidenceStore
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.state_machine import Evidence
from sanpi.milestone.timeline import service as timeline


class FileTooLarge(Problem):
    status, slug, title = 413, "file-too-large", "File too large"


def refusal(problem: FieldMessage, lang: Lang, status: int = 422) -> Problem:
    """A refused upload as problem+json naming the field, in the reader's language."""
    errors = [FieldProblem(problem.field, problem.message.render(lang))]
    if status == 413:
        return FileTooLarge(problem.text(lang), errors=errors, code=problem.message.code)
    return InvalidInput(problem.text(lang), errors=errors, code=problem.message.code)


def no_file(lang: Lang) -> Problem:
    return refusal(FieldMessage("file", NO_FILE()), lang)


def too_large(limit_bytes: int, lang: Lang) -> Problem:
    limit_mb = round(limit_bytes / 1024 / 1024, 1)
    shown = int(limit_mb) if limit_mb.is_integer() else limit_mb
    return refusal(FieldMessage("file", TOO_LARGE(limit_mb=shown)), lang, status=413)


def _display_name(filename: str | None) -> str:
    """The file's own name, without any directory a client sent (C:\\fakepath\\a.jpg)."""
    if not filename:
        return ""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return "".join(c for c in name if c.isprintable())[:255]


async def upload(
    uow: UnitOfWork,
    *,
    project_id: str,
    data: bytes,
    filename: str | None,
    principal: Principal,
    store: EvidenceStore,
    max_pixels: int,
    lang: Lang,
) -> tuple[EvidenceFile, bool]:
    """Stores a photo of a project the caller may write (404 unknown, 403 another park's):
    refuses what Pillow does not read as a JPEG, PNG or WebP and decompression bombs (422
    naming `file`). The same photo uploaded again for the project answers its first row.
    Returns the row and whether it is new."""
    project = await lifecycle.get_writable(uow, project_id, principal)
    try:
        # Pillow parses headers in C; off the event loop all the same (a 10 MB upload).
        found = await asyncio.to_thread(inspect, data, max_pixels=max_pixels)
    except Refused as refused:
        raise refusal(FieldMessage("file", refused.message), lang) from None
    sha256 = hashlib.sha256(data).hexdigest()
    existing = await repository.of_project_by_sha(uow.session, project.project_id, sha256)
    if existing is not None:
        return existing, False
    # The file before the row: a crash in between leaves a file nothing cites (harmless, and
    # the same upload reuses it), never a row without its file.
    await asyncio.to_thread(store.put, sha256, data)
    row = EvidenceFile(
        project_id=project.project_id,
        sha256=sha256,
        size_bytes=len(data),
        content_type=found.content_type,
        filename=_display_name(filename),
        width=found.width,
        height=found.height,
        captured_at=found.captured_at,
        captured_on=found.captured_on,
        latitude=found.latitude,
        longitude=found.longitude,
        uploaded_by=principal.subject,
        uploaded_at=utcnow(),
    )
    repository.save(uow.session, row)
    taken = f"拍摄于{zh_date(found.captured_on)}" if found.captured_on else "无拍摄时间"
    timeline.note(
        uow,
        project_id=project.project_id,
        event_type="evidence.uploaded",
        by=principal.subject,
        summary=f"上传照片 {row.filename or row.id}（{taken}）",
        data={
            "evidence_id": row.id,
            "uri": evidence_uri(row.id),
            "sha256": sha256,
            "content_type": row.content_type,
            "size_bytes": row.size_bytes,
            "width": row.width,
            "height": row.height,
            "captured_on": found.captured_on.isoformat() if found.captured_on else None,
        },
    )
    return row, True


async def get(session: AsyncSession, evidence_id: str) -> EvidenceFile:
    row = await repository.get(session, evidence_id)
    if row is None:
        raise NotFound(NO_EVIDENCE(evidence_id=evidence_id))
    return row


async def page(
    session: AsyncSession, *, project_id: str, limit: int, cursor: str | None
) -> tuple[list[EvidenceFile], str | None]:
    rows = await repository.page(
        session, project_id=project_id, limit=limit + 1, after=created_key_after(cursor)
    )
    return page_by_created(rows, limit, lambda r: (r.uploaded_at, r.id))


# --- the photos a milestone cites -------------------------------------------------------------

# An uploaded photo's reference: /v1/evidence/<id>, alone or at the end of a full URL.
_CITED = re.compile(r"(?:^|/)v1/evidence/([0-9a-fA-F-]{36})/?$")


def cited_id(uri: str) -> str | None:
    match = _CITED.search(uri.split("?", 1)[0])
    return match[1].lower() if match else None


async def cited_photos(
    session: AsyncSession, project_id: str, items: Sequence[Evidence]
) -> dict[int, EvidenceFile]:
    """The uploaded photos among a milestone's evidence, by position; 422 naming
    evidence.<i>.uri for one that does not exist or belongs to another project (in the
    reader's language)."""
    found, problems = await photos_of(session, project_id, items)
    if problems:
        raise InvalidInput(
            CITES_UNUSABLE(), errors=[FieldProblem(p.field, p.message) for p in problems]
        )
    return found


async def photos_of(
    session: AsyncSession, project_id: str, items: Sequence[Evidence]
) -> tuple[dict[int, EvidenceFile], list[FieldMessage]]:
    """The uploaded photos among a milestone's evidence, by position, and what is wrong with
    the ones it cannot use (evidence.<i>.uri: unknown, or of another project)."""
    wanted = {i: cited_id(item.uri) for i, item in enumerate(items)}
    ids = sorted({e for e in wanted.values() if e is not None})
    known = {row.id: row for row in await repository.many(session, ids)}
    found: dict[int, EvidenceFile] = {}
    problems: list[FieldMessage] = []
    for i, evidence_id in wanted.items():
        if evidence_id is None:
            continue
        row = known.get(evidence_id)
        if row is None:
            message = UNKNOWN_EVIDENCE(evidence_id=evidence_id)
        elif row.project_id != project_id:
            message = OTHER_PROJECT(evidence_id=evidence_id)
        else:
            found[i] = row
            continue
        problems.append(FieldMessage(f"evidence.{i}.uri", message))
    return found, problems


@dataclass(frozen=True)
class PhotoWarning:
    """A cited photo that does not show the milestone's date (accepted, and counted by R16)."""

    index: int
    photo: EvidenceFile
    message: Message

    @property
    def code(self) -> str:
        return self.message.code

    @property
    def field(self) -> str:
        return f"evidence.{self.index}"


def photo_warnings(date: dt.date, photos: dict[int, EvidenceFile]) -> list[PhotoWarning]:
    """The cited photos taken on another day than `date`, or on no known day."""
    out = []
    for i, photo in sorted(photos.items()):
        if photo.captured_on is None:
            out.append(PhotoWarning(i, photo, UNDATED(date=day(date))))
        elif photo.captured_on != date:
            out.append(
                PhotoWarning(
                    i, photo, DATE_MISMATCH(captured=day(photo.captured_on), date=day(date))
                )
            )
    return out


async def record_findings(
    uow: UnitOfWork,
    *,
    project_id: str,
    milestone_id: str,
    kind: str,
    label: str,
    date: dt.date,
    warnings: Sequence[PhotoWarning],
) -> None:
    """Keeps the milestone's warnings as findings, in its transaction, for R16."""
    now = utcnow()
    await repository.replace_findings(
        uow.session,
        milestone_id,
        [
            {
                "project_id": project_id,
                "milestone_id": milestone_id,
                "kind": kind,
                "label": label,
                "milestone_date": date,
                "evidence_id": w.photo.id,
                "code": w.code,
                "captured_on": w.photo.captured_on,
                "recorded_at": now,
            }
            for w in warnings
        ],
    )
