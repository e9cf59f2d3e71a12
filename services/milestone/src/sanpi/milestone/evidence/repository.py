"""Every SQL statement about evidence files and photo findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.id_spans import ByIds
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.milestone.evidence.models import EvidenceFile, PhotoFinding


async def get(session: AsyncSession, evidence_id: str) -> EvidenceFile | None:
    return await session.get(EvidenceFile, evidence_id)


async def many(session: AsyncSession, evidence_ids: Sequence[str]) -> list[EvidenceFile]:
    if not evidence_ids:
        return []
    stmt = select(EvidenceFile).where(col(EvidenceFile.id).in_(evidence_ids))
    return list((await session.exec(stmt)).all())


async def of_project_by_sha(
    session: AsyncSession, project_id: str, sha256: str
) -> EvidenceFile | None:
    stmt = select(EvidenceFile).where(
        EvidenceFile.project_id == project_id, EvidenceFile.sha256 == sha256
    )
    return (await session.exec(stmt)).first()


def save(session: AsyncSession, row: EvidenceFile) -> None:
    session.add(row)


async def page(
    session: AsyncSession, *, project_id: str, limit: int, after: CreatedKey | None
) -> list[EvidenceFile]:
    stmt = (
        select(EvidenceFile)
        .where(EvidenceFile.project_id == project_id)
        .where(after_created(col(EvidenceFile.uploaded_at), col(EvidenceFile.id), after))
        .order_by(col(EvidenceFile.uploaded_at), col(EvidenceFile.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


_FINDINGS = PhotoFinding.__table__.c  # type: ignore[attr-defined]


async def replace_findings(
    session: AsyncSession, milestone_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    """The milestone's findings become `rows` (a milestone recorded again after a stage
    correction is judged by its new photos only)."""
    connection = await session.connection()
    await connection.execute(sa.delete(PhotoFinding).where(_FINDINGS.milestone_id == milestone_id))
    if rows:
        await connection.execute(sa.insert(PhotoFinding), list(rows))


# What R16 reads: the findings of milestones dated within its window, per project.
_FOR_RULES = ByIds.of(
    lambda among: (
        sa.select(
            _FINDINGS.project_id,
            _FINDINGS.milestone_id,
            _FINDINGS.kind,
            _FINDINGS.label,
            _FINDINGS.milestone_date,
            _FINDINGS.code,
            _FINDINGS.captured_on,
        )
        .where(
            among(_FINDINGS.project_id),
            _FINDINGS.milestone_date >= sa.bindparam("since", type_=sa.Date),
        )
        .order_by(_FINDINGS.project_id, _FINDINGS.milestone_date, _FINDINGS.id)
    )
)


async def findings_for(
    session: AsyncSession, project_ids: Sequence[str], since: dt.date
) -> list[Any]:
    """The photo findings of these projects' milestones dated on or after `since`: a few rows
    at most (most milestones cite good photos, and most projects none in 90 days)."""
    connection = await session.connection()
    result = await connection.execute(*_FOR_RULES.params(project_ids, since=since))
    return list(result.all())
