"""Every SQL statement about alerts and the pinned evaluation date."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import AlertRule, Severity
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.milestone.rules.models import Alert, AlertState, PinnedDate


def save(session: AsyncSession, row: Alert | PinnedDate) -> None:
    session.add(row)


async def firing_for(session: AsyncSession, project_ids: Sequence[str]) -> list[Alert]:
    stmt = select(Alert).where(
        Alert.state == AlertState.FIRING, col(Alert.project_id).in_(project_ids)
    )
    return list((await session.exec(stmt)).all())


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
