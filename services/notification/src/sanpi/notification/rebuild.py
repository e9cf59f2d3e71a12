"""The notification service's rebuildable projection (sanpi-admin rebuild notification): the
project view it routes by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProjectListed, ProjectMasterData, Topic
from sanpi.kit import rebuild
from sanpi.kit.db import Database
from sanpi.kit.rebuild import Projection, Replayed
from sanpi.notification.routing.models import ProjectView
from sanpi.notification.routing.service import ViewRow, fold
from sanpi.notification.settings import NotificationSettings

VIEWS = cast(Table, ProjectView.__table__)  # type: ignore[attr-defined]


class ProjectViewProjection(rebuild.Shadowed):
    """notification_project_view, wholly a projection of sanpi.projects: one row a project,
    folded in memory with the consumer's own rule (routing.service.fold), written once."""

    name = "project_view"
    summary = "项目视图 (notification_project_view, what routing and messages read of a project)"
    topics: tuple[str, ...] = (Topic.PROJECTS.value,)
    replaces = "notification_project_view"

    def __init__(self) -> None:
        self.shadow = rebuild.shadow_of(VIEWS)
        self.views: dict[str, ViewRow] = {}

    async def apply(self, _db: Database, batch: Sequence[Replayed]) -> None:
        views = self.views
        for _event, data in batch:
            if isinstance(data, ProjectMasterData | ProjectListed):
                view = views.get(data.project_id)
                if view is None:
                    view = views[data.project_id] = ViewRow(data.project_id)
                fold(view, data)

    async def finish(self, db: Database) -> None:
        names = [c.name for c in VIEWS.columns]
        rows = [{name: getattr(view, name) for name in names} for view in self.views.values()]
        await rebuild.insert_rows(db, self.shadow, rows)
        self.views.clear()

    async def swap(self, session: AsyncSession) -> int:
        return await rebuild.copy_back(session, self.shadow, VIEWS)


def projections() -> list[Projection]:
    """The notification service's projections. Its alert state (notification_alert) is not one
    that can be rebuilt: acknowledgements are people's own input, and the start and end of each
    red spell are this service's clock at the time it learnt of them, not the events'."""
    return [ProjectViewProjection()]


def settings() -> NotificationSettings:
    return NotificationSettings()
