"""Every SQL statement about the project projection."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.routing.models import ProjectView


async def get(session: AsyncSession, project_id: str) -> ProjectView | None:
    return await session.get(ProjectView, project_id)


def save(session: AsyncSession, view: ProjectView) -> None:
    session.add(view)
