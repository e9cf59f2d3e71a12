"""Every SQL statement about assigned issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import IssueStatus
from sanpi.kit import Reading
from sanpi.kit.id_spans import ByIds
from sanpi.kit.unit_of_work import session_of
from sanpi.milestone.assigned.models import AssignedIssue, IssueFeedback
from sanpi.milestone.assigned.schemas import IssueOrder
from sanpi.milestone.lifecycle.models import TrackedProject

_ISSUES: Any = AssignedIssue.__table__.c  # type: ignore[attr-defined]


def add(session: AsyncSession, row: AssignedIssue | IssueFeedback) -> None:
    session.add(row)


async def get(tx: Reading, issue_id: str) -> AssignedIssue | None:
    return await session_of(tx).get(AssignedIssue, issue_id)


async def get_for_update(session: AsyncSession, issue_id: str) -> AssignedIssue | None:
    """The issue, locked until the transaction ends (PostgreSQL; SQLite's writers queue anyway):
    a concurrent write of it waits, then reads the version the first one wrote."""
    return await session.get(AssignedIssue, issue_id, with_for_update=True, populate_existing=True)


async def feedback_of(session: AsyncSession, issue_id: str) -> list[IssueFeedback]:
    stmt = (
        select(IssueFeedback)
        .where(IssueFeedback.issue_id == issue_id)
        .order_by(col(IssueFeedback.at), col(IssueFeedback.id))
    )
    return list((await session.exec(stmt)).all())


@dataclass(frozen=True)
class IssueFilter:
    """What a list of issues keeps: every field given must hold."""

    project_id: str | None = None
    parks: tuple[str, ...] = ()
    unit: str | None = None
    closed: bool | None = None  # None: open and closed ones
    overdue_on: dt.date | None = None  # late: open past due on this day, or closed after due


# One listed issue with its project's name and park (None for a project not tracked here).
Listed = tuple[AssignedIssue, str | None, str | None]


async def page(
    session: AsyncSession,
    *,
    limit: int,
    where: IssueFilter,
    order: IssueOrder,
    after: tuple[Any, str] | None,
) -> list[Listed]:
    """Issues in `order` (by created_at or due_on, then id) strictly after the key `after`."""
    stmt = select(AssignedIssue, col(TrackedProject.name), col(TrackedProject.park)).outerjoin(
        TrackedProject, col(TrackedProject.project_id) == col(AssignedIssue.project_id)
    )
    if where.project_id is not None:
        stmt = stmt.where(AssignedIssue.project_id == where.project_id)
    if where.parks:
        stmt = stmt.where(col(TrackedProject.park).in_(where.parks))
    if where.unit is not None:
        stmt = stmt.where(AssignedIssue.assigned_unit == where.unit)
    closed = col(AssignedIssue.status) == IssueStatus.CLOSED
    if where.closed is True:
        stmt = stmt.where(closed)
        if where.overdue_on is not None:
            stmt = stmt.where(col(AssignedIssue.closed_on) > col(AssignedIssue.due_on))
    elif where.closed is False or where.overdue_on is not None:
        stmt = stmt.where(~closed)
        if where.overdue_on is not None:
            stmt = stmt.where(col(AssignedIssue.due_on) < where.overdue_on)
    key = col(AssignedIssue.due_on) if order is IssueOrder.DUE else col(AssignedIssue.created_at)
    if after is not None:
        last, last_id = after
        stmt = stmt.where(sa.or_(key > last, sa.and_(key == last, col(AssignedIssue.id) > last_id)))
    stmt = stmt.order_by(key, col(AssignedIssue.id)).limit(limit)
    return [(row, name, park) for row, name, park in (await session.exec(stmt)).all()]


async def feedback_of_many(
    session: AsyncSession, issue_ids: Sequence[str]
) -> dict[str, list[IssueFeedback]]:
    """The feedback of these issues (a page's), each oldest first."""
    found: dict[str, list[IssueFeedback]] = {i: [] for i in issue_ids}
    if not issue_ids:
        return found
    stmt = (
        select(IssueFeedback)
        .where(col(IssueFeedback.issue_id).in_(list(issue_ids)))
        .order_by(col(IssueFeedback.at), col(IssueFeedback.id))
    )
    for entry in (await session.exec(stmt)).all():
        found[entry.issue_id].append(entry)
    return found


async def project_of(tx: Reading, project_id: str) -> TrackedProject | None:
    return await session_of(tx).get(TrackedProject, project_id)


# What R12 reads: the issues of these projects not closed by the day evaluated, in the order of
# rules.facts.IssueFact after the project id. The first feedback's day is kept on the issue, so
# that no feedback row is read.
_FOR_RULES = ByIds.of(
    lambda among: (
        sa.select(
            _ISSUES.project_id,
            _ISSUES.id,
            _ISSUES.category,
            _ISSUES.assigned_unit,
            _ISSUES.raised_on,
            _ISSUES.feedback_due_on,
            _ISSUES.feedback_red_on,
            _ISSUES.due_on,
            _ISSUES.red_on,
            _ISSUES.first_feedback_on,
        )
        .where(
            among(_ISSUES.project_id),
            _ISSUES.raised_on <= sa.bindparam("day", type_=sa.Date),
            sa.or_(
                _ISSUES.closed_on.is_(None), _ISSUES.closed_on > sa.bindparam("day", type_=sa.Date)
            ),
        )
        .order_by(_ISSUES.project_id, _ISSUES.raised_on, _ISSUES.id)
    )
)


async def open_for_rules(tx: Reading, project_ids: Sequence[str], day: dt.date) -> list[Any]:
    """The issues of these projects raised by `day` and not closed by it (a few rows: most
    projects have none open)."""
    session = session_of(tx)
    await session.flush()  # a Core read does not autoflush: this transaction's issues first
    connection = await session.connection()
    result = await connection.execute(*_FOR_RULES.params(project_ids, day=day))
    return list(result.all())
