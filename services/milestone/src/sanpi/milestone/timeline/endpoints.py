"""HTTP route of a project's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import MAX_LIMIT, Authenticated, ReadSessionDep
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.timeline import service
from sanpi.milestone.timeline.schemas import Timeline, TimelineItem

router = APIRouter(prefix="/projects", tags=["timeline"])


@router.get("/{project_id}/timeline", response_model=Timeline)
async def get_timeline(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    cursor: str | None = None,
) -> Timeline:
    """Every event that touched the project, oldest first, with who and when: registration and
    updates, listings, stage changes, milestones, replans, plans, reports and alerts."""
    project = await lifecycle.get(session, project_id)
    rows, next_cursor = await service.page(
        session, project_id=project_id, limit=limit, cursor=cursor
    )
    return Timeline(
        project_id=project.project_id,
        name=project.name,
        park=project.park,
        stage=project.stage,
        items=[
            TimelineItem(
                seq=r.id or 0,
                at=r.at,
                event_type=r.event_type,
                event_id=r.event_id,
                by=r.by,
                summary=r.summary,
                data=r.data,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
