"""Every SQL statement about assigned issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import IssueStatus
from sanpi.kit import Reading
from sanpi.kit.id_spans import ByIds
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.kit.unit_of_work import session_of
from sanpi.milestone.assigned.models import AssignedIssue, IssueFeedback

_ISSUES: Any = AssignedIssue.__table__.c  # type: ignore[attr-defined]


def add(session: AsyncSession, row: AssignedIssue | IssueFeedback) -> None:
    session.add(row)


async def get(tx: Reading, issue_id: str) -> AssignedIssue | None:
    return await session_of(tx).get(AssignedIssue, issue_id)


async def feedback_of(session: AsyncSession, issue_id: str) -> list[IssueFeedback]:
    stmt = (
        select(IssueFeedback)
        .where(IssueFeedback.issue_id == issue_id)
        .order_by(col(IssueFeedback.at), col(IssueFeedback.id))
    )
    return list((await session.exec(stmt)).all())


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: CreatedKey | None,
    project_id: str | None,
    unit: str | None,
    open_only: bool,
    overdue_on: dt.date | None,
) -> list[AssignedIssue]:
    """Issues oldest first; `overdue_on`: only the ones open and past their due day on it."""
    stmt = select(AssignedIssue)
    if project_id is not None:
        stmt = stmt.where(AssignedIssue.project_id == project_id)
    if unit is not None:
        stmt = stmt.where(AssignedIssue.assigned_unit == unit)
    if open_only or overdue_on is not None:
        stmt = stmt.where(AssignedIssue.status != IssueStatus.CLOSED)
    if overdue_on is not None:
        stmt = stmt.where(col(AssignedIssue.due_on) < overdue_on)
    stmt = stmt.where(after_created(col(AssignedIssue.created_at), col(AssignedIssue.id), after))
    stmt = stmt.order_by(col(AssignedIssue.created_at), col(AssignedIssue.id)).limit(limit)
    return list((await session.exec(stmt)).all())


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
