"""Every SQL statement about investment plans and progress reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.kit.prefetch import Prefetched
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport

# A consumer batch's investment plans by project, loaded up front.
PREFETCHED: Prefetched[InvestmentPlan] = Prefetched("milestone.plans")


async def prefetch(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Loads a batch's investment plans in one query; `plan` then answers from memory."""
    PREFETCHED.keep(session, project_ids, await plans(session, project_ids), lambda p: p.project_id)


def save(session: AsyncSession, row: InvestmentPlan | ProgressReport) -> None:
    session.add(row)
    if isinstance(row, InvestmentPlan):
        PREFETCHED.add(session, row.project_id, row)


async def plan(session: AsyncSession, project_id: str, year: int) -> InvestmentPlan | None:
    known = PREFETCHED.rows(session, project_id)
    if known is not None:
        return next((p for p in known if p.year == year), None)
    stmt = select(InvestmentPlan).where(
        InvestmentPlan.project_id == project_id, InvestmentPlan.year == year
    )
    return (await session.exec(stmt)).first()


async def plans(session: AsyncSession, project_ids: Sequence[str]) -> list[InvestmentPlan]:
    stmt = (
        select(InvestmentPlan)
        .where(col(InvestmentPlan.project_id).in_(project_ids))
        .order_by(col(InvestmentPlan.year))
    )
    return list((await session.exec(stmt)).all())


async def reports(session: AsyncSession, project_ids: Sequence[str]) -> list[ProgressReport]:
    stmt = (
        select(ProgressReport)
        .where(col(ProgressReport.project_id).in_(project_ids))
        .order_by(col(ProgressReport.period_end), col(ProgressReport.period_key))
    )
    return list((await session.exec(stmt)).all())


# The columns of a report the rules read (DOMAIN.md §3), in this order.
ReportRow = tuple[str, str, int, int, float | None, dt.date, bool]


async def report_facts(session: AsyncSession, project_ids: Sequence[str]) -> Sequence[ReportRow]:
    """The reports of these projects as plain rows (project_id, period_key, cumulative, ytd,
    physical %, submitted_on, lowered_by_correction), no ORM object per row: a full evaluation
    reads ~1.8M of them at province scale. As ORM objects that cost 28 CPU-µs a row (~51 s)."""
    stmt = sa.select(
        col(ProgressReport.project_id),
        col(ProgressReport.period_key),
        col(ProgressReport.completed_investment_cum),
        col(ProgressReport.completed_investment_ytd),
        col(ProgressReport.physical_progress_pct),
        col(ProgressReport.submitted_on),
        col(ProgressReport.lowered_by_correction),
    ).where(col(ProgressReport.project_id).in_(project_ids))
    # More columns than sqlmodel's select() types: a Core select on the session's connection.
    connection = await session.connection()
    return (await connection.execute(stmt)).tuples().all()


async def report_page(
    session: AsyncSession, *, project_id: str, limit: int, after: CreatedKey | None
) -> list[ProgressReport]:
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.project_id == project_id)
        .where(after_created(col(ProgressReport.created_at), col(ProgressReport.id), after))
        .order_by(col(ProgressReport.created_at), col(ProgressReport.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
