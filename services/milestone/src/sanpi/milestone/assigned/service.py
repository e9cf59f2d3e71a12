"""Assigned issues with I/O: raising one with its 13710 deadlines, feedback, closing out (销号)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanpi.events import (
    ISSUE_CATEGORY_LABELS,
    AssignedIssueClosed,
    AssignedIssueFeedbackAdded,
    AssignedIssueRaised,
    IssueStatus,
)
from sanpi.kit import (
    FieldProblem,
    InvalidInput,
    NotFound,
    Principal,
    Reading,
    UnitOfWork,
    check_versions,
    utcnow,
)
from sanpi.kit.messages import FieldMessage, Lang, Message
from sanpi.kit.pagination import created_key_after, encode_cursor, key_after
from sanpi.kit.unit_of_work import session_of
from sanpi.kit.workdays import CalendarYearUnknown, known_years
from sanpi.milestone.assigned import repository
from sanpi.milestone.assigned.messages import (
    ALREADY_CLOSED,
    CLOSED_BEFORE_RAISED,
    CLOSED_IN_FUTURE,
    DUE_BEFORE_RAISED,
    ISSUE,
    NO_DESCRIPTION,
    NO_EVIDENCE,
    NO_ISSUE,
    NO_TEXT,
    NO_UNIT,
    RAISED_IN_FUTURE,
)
from sanpi.milestone.assigned.models import AssignedIssue, IssueFeedback
from sanpi.milestone.assigned.repository import IssueFilter
from sanpi.milestone.assigned.schemas import (
    FeedbackCreate,
    FeedbackPublic,
    IssueClose,
    IssueCreate,
    IssueOrder,
    IssuePublic,
)
from sanpi.milestone.assigned.terms import deadlines
from sanpi.milestone.evidence import service as evidence_files
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.state_machine import Evidence
from sanpi.milestone.settings import R12Thresholds
from sanpi.milestone.timeline import service as timeline


def refused(problems: list[FieldMessage], lang: Lang) -> InvalidInput:
    """422 naming each field, in the reader's language (Chinese unless asked otherwise)."""
    return InvalidInput(
        "; ".join(p.text(lang) for p in problems),
        errors=[FieldProblem(p.field, p.message.render(lang)) for p in problems],
        code=problems[0].message.code,
    )


def _refuse(field: str, message: Message, lang: Lang) -> InvalidInput:
    return refused([FieldMessage(field, message)], lang)


async def raise_issue(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    body: IssueCreate,
    principal: Principal,
    today: dt.date,
    cfg: R12Thresholds,
    lang: Lang,
) -> AssignedIssue:
    """An issue of the project assigned to a unit, due by the 13710 rule (or on a day set by
    hand); announced as assigned_issue.raised."""
    principal.ensure_can_write_park(project.park)
    raised_on = body.raised_on or today
    problems = []
    if not body.assigned_unit:
        problems.append(FieldMessage("assigned_unit", NO_UNIT()))
    if not body.description:
        problems.append(FieldMessage("description", NO_DESCRIPTION()))
    if raised_on > today:
        problems.append(
            FieldMessage("raised_on", RAISED_IN_FUTURE(raised_on=raised_on, today=today))
        )
    if body.due_on is not None and body.due_on < raised_on:
        problems.append(
            FieldMessage("due_on", DUE_BEFORE_RAISED(due_on=body.due_on, raised_on=raised_on))
        )
    if problems:
        raise refused(problems, lang)
    if body.due_on is not None and body.due_on.year not in known_years():
        # Red comes as long again after a hand-set day: keep it within the calendar's years.
        raise _refuse("due_on", CalendarYearUnknown(body.due_on.year).message, lang)
    try:
        due = deadlines(raised_on, body.term, cfg, due_on=body.due_on)
    except CalendarYearUnknown as unknown:
        raise _refuse("raised_on", unknown.message, lang) from None
    row = AssignedIssue(
        project_id=project.project_id,
        category=body.category,
        description=body.description,
        assigned_unit=body.assigned_unit,
        term=body.term,
        raised_by=body.raised_by or principal.subject,
        raised_on=raised_on,
        feedback_due_on=due.feedback_due_on,
        feedback_red_on=due.feedback_red_on,
        due_on=due.due_on,
        red_on=due.red_on,
        recorded_by=principal.subject,
    )
    repository.add(uow.session, row)
    timeline.publish(
        uow,
        AssignedIssueRaised(
            project_id=row.project_id,
            issue_id=row.id,
            category=row.category,
            description=row.description,
            responsible_unit=row.assigned_unit,
            term=row.term,
            raised_by=row.raised_by,
            raised_on=row.raised_on,
            feedback_due_on=row.feedback_due_on,
            due_on=row.due_on,
            red_on=row.red_on,
            recorded_by=principal.subject,
        ),
        project_id=row.project_id,
        by=principal.subject,
        summary=f"交办事项 [{ISSUE_CATEGORY_LABELS[row.category]}] {row.description} → "
        f"{row.assigned_unit}，{row.due_on} 前办结",
    )
    return row


async def get(tx: Reading, issue_id: str) -> AssignedIssue:
    row = await repository.get(tx, issue_id)
    if row is None:
        raise NotFound(NO_ISSUE(issue_id=issue_id))
    return row


async def get_for_update(uow: UnitOfWork, issue_id: str) -> AssignedIssue:
    """The issue to write: a concurrent write of it waits for this transaction (repository)."""
    row = await repository.get_for_update(uow.session, issue_id)
    if row is None:
        raise NotFound(NO_ISSUE(issue_id=issue_id))
    return row


def _written(row: AssignedIssue, *, if_match: str | None, version: int | None) -> None:
    """Checks the version the writer read (412 for If-Match, 409 for the body's, in the kit's
    words), then bumps it: the next writer who read the old one is refused."""
    check_versions(if_match=if_match, version=version, current=row.version, what=ISSUE)
    row.version += 1
    row.updated_at = utcnow()


def _open(row: AssignedIssue, field: str, lang: Lang) -> None:
    if row.status is IssueStatus.CLOSED:
        raise _refuse(field, ALREADY_CLOSED(closed_on=row.closed_on), lang)


async def add_feedback(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    row: AssignedIssue,
    body: FeedbackCreate,
    principal: Principal,
    today: dt.date,
    lang: Lang,
    if_match: str | None = None,
) -> IssueFeedback:
    """A feedback entry (反馈) on an open issue; the first one stops its feedback clock."""
    principal.ensure_can_write_park(project.park)
    _written(row, if_match=if_match, version=body.version)
    _open(row, "issue_id", lang)
    if not body.text:
        raise _refuse("text", NO_TEXT(), lang)
    entry = IssueFeedback(
        issue_id=row.id, project_id=row.project_id, by=principal.subject, text=body.text
    )
    first = row.first_feedback_on is None
    if first:
        row.first_feedback_on = today
        row.status = IssueStatus.IN_PROGRESS
    repository.add(uow.session, entry)
    repository.add(uow.session, row)
    timeline.publish(
        uow,
        AssignedIssueFeedbackAdded(
            project_id=row.project_id,
            issue_id=row.id,
            feedback_id=entry.id,
            text=entry.text,
            by=entry.by,
            at=entry.at,
            first=first,
        ),
        project_id=row.project_id,
        by=principal.subject,
        summary=f"交办事项反馈（{row.assigned_unit}）：{entry.text}",
    )
    return entry


async def close(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    row: AssignedIssue,
    body: IssueClose,
    principal: Principal,
    today: dt.date,
    lang: Lang,
    if_match: str | None = None,
) -> AssignedIssue:
    """销号: the issue is solved, with evidence; R12 falls silent on it."""
    principal.ensure_can_write_park(project.park)
    _written(row, if_match=if_match, version=body.version)
    _open(row, "issue_id", lang)
    closed_on = body.closed_on or today
    evidence = [uri for uri in body.evidence if uri]
    problems = []
    if not evidence:
        problems.append(FieldMessage("evidence", NO_EVIDENCE()))
    if closed_on < row.raised_on:
        problems.append(
            FieldMessage(
                "closed_on", CLOSED_BEFORE_RAISED(closed_on=closed_on, raised_on=row.raised_on)
            )
        )
    if closed_on > today:
        problems.append(
            FieldMessage("closed_on", CLOSED_IN_FUTURE(closed_on=closed_on, today=today))
        )
    if problems:
        raise refused(problems, lang)
    # An uploaded photo cited must exist and be of this project (422 naming evidence.<i>.uri).
    await evidence_files.cited_photos(
        uow.session, row.project_id, [Evidence(u, None) for u in evidence]
    )
    row.status = IssueStatus.CLOSED
    row.closed_on = closed_on
    row.closed_by = principal.subject
    row.closing_note = body.note
    row.evidence = evidence
    repository.add(uow.session, row)
    late = max((closed_on - row.due_on).days, 0)
    timeline.publish(
        uow,
        AssignedIssueClosed(
            project_id=row.project_id,
            issue_id=row.id,
            closed_on=closed_on,
            closed_by=principal.subject,
            evidence=evidence,
            note=body.note,
            days_overdue=late,
        ),
        project_id=row.project_id,
        by=principal.subject,
        summary=f"交办事项销号（{row.assigned_unit}）：{row.description}"
        + (f"，逾期 {late} 天" if late else "，按期办结"),
    )
    return row


def overdue_days(row: AssignedIssue, today: dt.date) -> int:
    end = row.closed_on if row.closed_on is not None else today
    return max((end - row.due_on).days, 0)


def public(
    row: AssignedIssue,
    today: dt.date,
    feedback: list[IssueFeedback] | None = None,
    *,
    project_name: str | None = None,
    park: str | None = None,
) -> IssuePublic:
    return IssuePublic(
        id=row.id,
        project_id=row.project_id,
        project_name=project_name,
        park=park,
        category=row.category,
        category_label=ISSUE_CATEGORY_LABELS[row.category],
        description=row.description,
        assigned_unit=row.assigned_unit,
        term=row.term,
        raised_by=row.raised_by,
        raised_on=row.raised_on,
        feedback_due_on=row.feedback_due_on,
        due_on=row.due_on,
        red_on=row.red_on,
        status=row.status,
        overdue_days=overdue_days(row, today),
        first_feedback_on=row.first_feedback_on,
        closed_on=row.closed_on,
        closed_by=row.closed_by,
        closing_note=row.closing_note,
        evidence=list(row.evidence),
        recorded_by=row.recorded_by,
        created_at=row.created_at,
        version=row.version,
        feedback=[FeedbackPublic(id=f.id, by=f.by, at=f.at, text=f.text) for f in feedback or []],
    )


async def answer(
    tx: Reading, row: AssignedIssue, today: dt.date, *, with_feedback: bool = True
) -> IssuePublic:
    """One issue as answered by its own routes: with its project's name and park, and feedback."""
    project = await repository.project_of(tx, row.project_id)
    feedback = await feedback_of(tx, row.id) if with_feedback else None
    return public(
        row,
        today,
        feedback,
        project_name=project.name if project else None,
        park=project.park if project else None,
    )


async def feedback_of(tx: Reading, issue_id: str) -> list[IssueFeedback]:
    return await repository.feedback_of(session_of(tx), issue_id)


def _after(cursor: str | None, order: IssueOrder) -> tuple[Any, str] | None:
    """The (key, id) position a cursor points after; a cursor is only good for the order it was
    made in (422 naming cursor otherwise)."""
    if order is IssueOrder.CREATED:
        return created_key_after(cursor)
    return key_after(cursor, "due", dt.date.fromisoformat)


async def page(
    tx: Reading,
    *,
    limit: int,
    cursor: str | None,
    where: IssueFilter,
    order: IssueOrder,
    today: dt.date,
    with_feedback: bool,
) -> tuple[list[IssuePublic], str | None]:
    """A page of issues in `order`, each with its project's name and park (and its feedback
    when asked: one more query for the whole page)."""
    session = session_of(tx)
    rows = await repository.page(
        session, limit=limit + 1, where=where, order=order, after=_after(cursor, order)
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = encode_cursor(
            {"due": last.due_on.isoformat(), "id": last.id}
            if order is IssueOrder.DUE
            else {"t": last.created_at.isoformat(), "id": last.id}
        )
    feedback = (
        await repository.feedback_of_many(session, [r.id for r, _, _ in rows])
        if with_feedback
        else {}
    )
    items = [
        public(row, today, feedback.get(row.id), project_name=name, park=park)
        for row, name, park in rows
    ]
    return items, next_cursor
