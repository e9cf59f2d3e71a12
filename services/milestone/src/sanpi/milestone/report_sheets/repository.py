"""Every SQL statement of the report sheets: a park's projects that report, their last figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ReportPeriodKind, Stage
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.progress.models import ProgressReport

# A cancelled project reports nothing more; one that reached 达效 has left the campaign's watch.
SILENT = (Stage.CANCELLED, Stage.EFFECTIVE)


async def reporting(session: AsyncSession, park: str) -> list[TrackedProject]:
    """The park's projects that report, by name."""
    stmt = (
        select(TrackedProject)
        .where(col(TrackedProject.park) == park, col(TrackedProject.stage).not_in(SILENT))
        .order_by(col(TrackedProject.name), col(TrackedProject.project_id))
    )
    return list((await session.exec(stmt)).all())


async def last_before(
    session: AsyncSession, project_ids: Sequence[str], kind: ReportPeriodKind, before: dt.date
) -> dict[str, ProgressReport]:
    """Each project's latest report of `kind` for a period ending before `before`."""
    latest = (
        select(ProgressReport.project_id, func.max(ProgressReport.period_end).label("end"))
        .where(
            col(ProgressReport.project_id).in_(list(project_ids)),
            col(ProgressReport.period_kind) == kind,
            col(ProgressReport.period_end) < before,
        )
        .group_by(col(ProgressReport.project_id))
        .subquery()
    )
    stmt = select(ProgressReport).join(
        latest,
        (col(ProgressReport.project_id) == latest.c.project_id)
        & (col(ProgressReport.period_end) == latest.c.end)
        & (col(ProgressReport.period_kind) == kind),
    )
    return {r.project_id: r for r in (await session.exec(stmt)).all()}
