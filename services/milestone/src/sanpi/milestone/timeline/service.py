"""Writing the timeline: every event this service publishes or applies about a project lands here."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, EventData
from sanpi.kit import UnitOfWork, pagination, utcnow
from sanpi.kit.pagination import decode_cursor, encode_cursor
from sanpi.milestone.timeline import repository
from sanpi.milestone.timeline.models import TimelineEntry


def note(
    uow: UnitOfWork,
    *,
    project_id: str,
    event_type: str,
    by: str | None,
    summary: str,
    data: dict[str, Any],
    event_id: str | None = None,
) -> None:
    """Appends one entry to the project's timeline (in this transaction)."""
    repository.add(
        uow,
        {
            "project_id": project_id,
            "event_type": event_type,
            "event_id": event_id,
            "at": utcnow(),
            "by": by,
            "summary": summary,
            "data": data,
        },
    )


def publish(
    uow: UnitOfWork, data: EventData, *, project_id: str, by: str | None, summary: str
) -> CloudEvent:
    """Enqueues an event (outbox) and records it on the project's timeline, in one transaction."""
    # One dump for both rows: the timeline keeps it whole, the envelope without its None values.
    dumped = data.model_dump(mode="json")
    event = uow.publish(data, dumped=dumped)
    note(
        uow,
        project_id=project_id,
        event_type=event.type,
        event_id=event.id,
        by=by,
        summary=summary,
        data=dumped,
    )
    return event


async def page(
    session: AsyncSession, *, project_id: str, limit: int, cursor: str | None
) -> tuple[list[TimelineEntry], str | None]:
    """A page of the timeline, oldest first, and the cursor of the next page."""
    after = 0
    if cursor:
        position = decode_cursor(cursor)
        if not isinstance(position.get("seq"), int):
            raise pagination.bad_cursor()
        after = position["seq"]
    rows = await repository.page(session, project_id=project_id, after_id=after, limit=limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor({"seq": rows[-1].id})
