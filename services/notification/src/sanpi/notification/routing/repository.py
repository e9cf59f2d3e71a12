"""Every SQL statement about the project projection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Table, bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.notification.routing.models import ProjectView

PROJECT_VIEW: Table = ProjectView.__table__  # type: ignore[attr-defined]


class RoutingRow(NamedTuple):
    """What events about a project are routed by, read without building a ProjectView."""

    project_id: str
    name: str | None
    park: str | None
    chain_tag: str | None
    category: str | None
    total_investment: int | None
    periods: list[int]


_ROUTING = select(*(PROJECT_VIEW.c[name] for name in RoutingRow._fields)).where(
    PROJECT_VIEW.c.project_id == bindparam("project_id")
)


_ROUTINGS = select(*(PROJECT_VIEW.c[name] for name in RoutingRow._fields)).where(
    PROJECT_VIEW.c.project_id.in_(bindparam("project_ids", expanding=True))
)


async def routing_rows(session: AsyncSession, project_ids: Iterable[str]) -> list[RoutingRow]:
    rows = await session.exec(_ROUTINGS, params={"project_ids": list(project_ids)})
    return [RoutingRow(*row) for row in rows]


async def routing_row(session: AsyncSession, project_id: str) -> RoutingRow | None:
    row = (await session.exec(_ROUTING, params={"project_id": project_id})).first()
    return None if row is None else RoutingRow(*row)


async def get(session: AsyncSession, project_id: str) -> ProjectView | None:
    return await session.get(ProjectView, project_id)


def save(session: AsyncSession, view: ProjectView) -> None:
    session.add(view)
