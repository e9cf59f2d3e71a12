"""Every SQL statement about tracked projects."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.milestone.lifecycle.models import TrackedProject


async def get(session: AsyncSession, project_id: str) -> TrackedProject | None:
    return await session.get(TrackedProject, project_id)


def save(session: AsyncSession, project: TrackedProject) -> None:
    session.add(project)
