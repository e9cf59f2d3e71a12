"""Every SQL statement about alert states and their per-subscription timers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.escalation.models import AlertFollow, AlertState


async def get(session: AsyncSession, alert_key: str) -> AlertState | None:
    return await session.get(AlertState, alert_key)


async def many(session: AsyncSession, keys: list[str]) -> dict[str, AlertState]:
    if not keys:
        return {}
    stmt = select(AlertState).where(col(AlertState.alert_key).in_(set(keys)))
    return {s.alert_key: s for s in (await session.exec(stmt)).all()}


def save(session: AsyncSession, row: AlertState | AlertFollow) -> None:
    session.add(row)


async def follow_of(
    session: AsyncSession, subscription_id: str, alert_key: str
) -> AlertFollow | None:
    stmt = select(AlertFollow).where(
        AlertFollow.subscription_id == subscription_id, AlertFollow.alert_key == alert_key
    )
    return (await session.exec(stmt)).first()


async def follows_of(session: AsyncSession, alert_key: str) -> list[AlertFollow]:
    stmt = select(AlertFollow).where(AlertFollow.alert_key == alert_key)
    return list((await session.exec(stmt)).all())


async def due_follows(session: AsyncSession, now: dt.datetime, limit: int) -> list[AlertFollow]:
    stmt = (
        select(AlertFollow)
        .where(
            or_(
                col(AlertFollow.next_repeat_at) <= now,
                col(AlertFollow.next_escalation_at) <= now,
            )
        )
        .order_by(col(AlertFollow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(stmt)).all())


async def delete_follow(session: AsyncSession, follow: AlertFollow) -> None:
    await session.delete(follow)


async def delete_follows_of(session: AsyncSession, alert_key: str) -> None:
    await session.exec(delete(AlertFollow).where(col(AlertFollow.alert_key) == alert_key))


@dataclass(frozen=True)
class StateFilter:
    """Which alert states a list shows; None means "any"."""

    firing: bool | None = True
    acknowledged: bool | None = None
    parks: tuple[str, ...] = ()
    severity: str | None = None
    rule: str | None = None
    project_id: str | None = None


def _state_conditions(f: StateFilter, *, with_severity: bool = True) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.firing is not None:
        where.append(col(AlertState.firing).is_(f.firing))
    if f.acknowledged is not None:
        acked = col(AlertState.acknowledged_at)
        where.append(acked.is_not(None) if f.acknowledged else acked.is_(None))
    if f.parks:
        where.append(col(AlertState.park).in_(f.parks))
    if with_severity and f.severity is not None:
        where.append(col(AlertState.severity) == f.severity)
    if f.rule is not None:
        # Keys begin with their rule: R02:<project id>, R15:梧桐:SIGN_AMOUNT.
        where.append(col(AlertState.alert_key).startswith(f"{f.rule}:", autoescape=True))
    if f.project_id is not None:
        where.append(col(AlertState.project_id) == f.project_id)
    return where


# Red first: the open list is worked through from the worst alert down.
severity_rank = case(
    {"red": 4, "orange": 3, "yellow": 2, "green": 1, "blue": 0},
    value=col(AlertState.severity),
    else_=-1,
)


async def state_page(
    session: AsyncSession,
    *,
    filters: StateFilter,
    after: tuple[int, dt.datetime, str] | None,
    limit: int,
) -> list[tuple[AlertState, int]]:
    """Alert states matching `filters`, most severe first, then newest event first, strictly
    after `after` (rank, event time, key); each with its severity rank."""
    stmt = select(AlertState, severity_rank).where(*_state_conditions(filters))
    if after is not None:
        rank, at, key = after
        stmt = stmt.where(
            or_(
                severity_rank < rank,
                and_(
                    severity_rank == rank,
                    or_(
                        col(AlertState.last_event_time) < at,
                        and_(
                            col(AlertState.last_event_time) == at,
                            col(AlertState.alert_key) < key,
                        ),
                    ),
                ),
            )
        )
    stmt = stmt.order_by(
        severity_rank.desc(),
        col(AlertState.last_event_time).desc(),
        col(AlertState.alert_key).desc(),
    ).limit(limit)
    return [(row, int(rank)) for row, rank in (await session.exec(stmt)).all()]


async def severity_counts(session: AsyncSession, *, filters: StateFilter) -> dict[str, int]:
    """How many states match `filters` at each severity (the severity filter itself aside)."""
    stmt = (
        select(AlertState.severity, func.count())
        .where(*_state_conditions(filters, with_severity=False))
        .group_by(col(AlertState.severity))
    )
    return {str(severity): int(n) for severity, n in (await session.exec(stmt)).all()}
