"""Every SQL statement about investment plans and progress reports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport


def save(session: AsyncSession, row: InvestmentPlan | ProgressReport) -> None:
    session.add(row)


async def plan(session: AsyncSession, project_id: str, year: int) -> InvestmentPlan | None:
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
