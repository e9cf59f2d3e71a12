"""Every SQL statement about projects."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import Stage
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.registry.projects.models import Project


async def get(session: AsyncSession, project_id: str) -> Project | None:
    return await session.get(Project, project_id)


def add(session: AsyncSession, project: Project) -> None:
    session.add(project)


async def list_page(
    session: AsyncSession,
    *,
    limit: int,
    after: CreatedKey | None,
    park: str | None = None,
    stage: Stage | None = None,
) -> list[Project]:
    """Projects in (created_at, id) order, after the cursor position, at most `limit` of them."""
    stmt = select(Project)
    if park is not None:
        stmt = stmt.where(Project.park == park)
    if stage is not None:
        stmt = stmt.where(Project.stage == stage)
    stmt = stmt.where(after_created(col(Project.created_at), col(Project.id), after))
    stmt = stmt.order_by(col(Project.created_at), col(Project.id)).limit(limit)
    return list((await session.exec(stmt)).all())
