"""Every SQL statement about alerts and the pinned evaluation date."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import AlertRule, Severity
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.rules.models import Alert, AlertState, PinnedDate


def save(session: AsyncSession, row: Alert | PinnedDate) -> None:
    session.add(row)


# Built once, run with parameters: it runs after every report and project event.
_FIRING_FOR = select(Alert).where(
    Alert.state == AlertState.FIRING,
    col(Alert.project_id).in_(sa.bindparam("ids", expanding=True)),
)


async def firing_for(session: AsyncSession, project_ids: Sequence[str]) -> list[Alert]:
    return list((await session.exec(_FIRING_FOR, params={"ids": list(project_ids)})).all())


def in_session(session: AsyncSession, project_ids: Sequence[str]) -> list[TrackedProject] | None:
    """These projects as this transaction already holds them (the identity map: a report's
    endpoint read the project just before its evaluation), or None if one is not there or not
    fully loaded; no SQL."""
    found: list[TrackedProject] = []
    for project_id in project_ids:
        key = session.identity_key(TrackedProject, project_id)
        row = session.identity_map.get(key)
        if not isinstance(row, TrackedProject) or sa.inspect(row).unloaded:
            return None
        found.append(row)
    return found


async def firing(session: AsyncSession) -> list[Alert]:
    stmt = select(Alert).where(Alert.state == AlertState.FIRING)
    return list((await session.exec(stmt)).all())


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: CreatedKey | None,
    project_id: str | None,
    rule: AlertRule | None,
    severity: Severity | None,
    park: str | None,
    state: AlertState | None,
) -> list[Alert]:
    stmt = select(Alert)
    if project_id is not None:
        stmt = stmt.where(Alert.project_id == project_id)
    if rule is not None:
        stmt = stmt.where(Alert.rule == rule)
    if severity is not None:
        stmt = stmt.where(Alert.severity == severity)
    if park is not None:
        stmt = stmt.where(Alert.park == park)
    if state is not None:
        stmt = stmt.where(Alert.state == state)
    stmt = stmt.where(after_created(col(Alert.created_at), col(Alert.id), after))
    stmt = stmt.order_by(col(Alert.created_at), col(Alert.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def pinned(session: AsyncSession) -> PinnedDate | None:
    return await session.get(PinnedDate, 1)


async def unpin(session: AsyncSession) -> None:
    await session.exec(delete(PinnedDate))
