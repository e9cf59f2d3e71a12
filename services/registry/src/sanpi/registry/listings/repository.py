"""Every SQL statement about listings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType
from sanpi.registry.listings.models import Listing
from sanpi.registry.projects.models import Project

ListingKey = tuple[int, str, str]  # (period, batch, project_id)


def add(session: AsyncSession, listing: Listing) -> None:
    session.add(listing)


async def of_project(session: AsyncSession, project_id: str) -> list[Listing]:
    stmt = (
        select(Listing).where(col(Listing.project_id) == project_id).order_by(col(Listing.period))
    )
    return list((await session.exec(stmt)).all())


async def of_projects(session: AsyncSession, project_ids: Sequence[str]) -> list[Listing]:
    found: list[Listing] = []
    for start in range(0, len(project_ids), 500):
        chunk = project_ids[start : start + 500]
        found += (
            await session.exec(select(Listing).where(col(Listing.project_id).in_(chunk)))
        ).all()
    return found


async def all_listings(session: AsyncSession) -> list[Listing]:
    return list((await session.exec(select(Listing))).all())


async def page(
    session: AsyncSession,
    *,
    period: int | None,
    batch: BatchType | None,
    park: str | None,
    after: ListingKey | None,
    limit: int,
) -> list[Listing]:
    """Listings in (period, batch, project_id) order after `after`."""
    stmt = select(Listing)
    if park is not None:
        stmt = stmt.join(Project, col(Project.id) == col(Listing.project_id)).where(
            col(Project.park) == park
        )
    if period is not None:
        stmt = stmt.where(col(Listing.period) == period)
    if batch is not None:
        stmt = stmt.where(col(Listing.batch) == batch)
    position: ColumnElement[bool] = true()
    if after is not None:
        p, b, pid = after
        position = or_(
            col(Listing.period) > p,
            and_(col(Listing.period) == p, col(Listing.batch) > b),
            and_(col(Listing.period) == p, col(Listing.batch) == b, col(Listing.project_id) > pid),
        )
    stmt = stmt.where(position).order_by(
        col(Listing.period), col(Listing.batch), col(Listing.project_id)
    )
    return list((await session.exec(stmt.limit(limit))).all())
