"""Keeps the project projection current and derives the routing attributes of any sanpi event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sanpi.events import (
    AlertEvent,
    CloudEvent,
    EventData,
    ProjectEvent,
    ProjectListed,
    ProjectMasterData,
)
from sanpi.kit import Slot, UnitOfWork
from sanpi.kit.projection import applies
from sanpi.notification.routing import repository
from sanpi.notification.routing.filters import Routing
from sanpi.notification.routing.models import ProjectView

# The views a transaction has read or written, held here: the session's identity map holds its
# objects weakly, so each event of a consumer batch about the same project read it again.
VIEWS: Slot[dict[str, ProjectView | None]] = Slot("notification.project_views", dict)
# The routing attributes of the projects a transaction routed events about (read with Core; a
# write by `apply` drops the entry, and the next read sees it through autoflush).
ROUTES: Slot[dict[str, repository.RoutingRow | None]] = Slot("notification.project_routes", dict)


async def _view(uow: UnitOfWork, project_id: str) -> ProjectView | None:
    views = uow.slot(VIEWS)
    if project_id not in views:
        views[project_id] = await repository.get(uow.session, project_id)
    return views[project_id]


def _save(uow: UnitOfWork, view: ProjectView) -> None:
    uow.slot(VIEWS)[view.project_id] = view
    routes = uow.peek(ROUTES)
    if routes is not None:
        routes.pop(view.project_id, None)
    repository.save(uow.session, view)


async def _route(uow: UnitOfWork, project_id: str) -> repository.RoutingRow | None:
    routes = uow.slot(ROUTES)
    if project_id not in routes:
        routes[project_id] = await repository.routing_row(uow.session, project_id)
    return routes[project_id]


async def prefetch(uow: UnitOfWork, batch: Sequence[EventData]) -> None:
    """Reads the routing attributes of the projects a consumer batch's events are about in one
    query, instead of one query per project as the events are routed (at 50 events a batch,
    that query was one of ~2.3 statements an event). Alerts carry their own."""
    routes = uow.slot(ROUTES)
    wanted = {
        data.project_id
        for data in batch
        if isinstance(data, ProjectEvent)
        and not isinstance(data, AlertEvent)
        and data.project_id not in routes
    }
    if not wanted:
        return
    found = {row.project_id: row for row in await repository.routing_rows(uow.session, wanted)}
    for project_id in wanted:
        routes[project_id] = found.get(project_id)


async def apply(uow: UnitOfWork, data: EventData) -> None:
    """Folds registry events into the projection (see fold)."""
    if isinstance(data, ProjectMasterData | ProjectListed):
        view = await _view(uow, data.project_id) or ProjectView(project_id=data.project_id)
        if fold(view, data):
            _save(uow, view)


@dataclass
class ViewRow:
    """A project's view as plain values (a rebuild folds these, not ORM rows: ~10x cheaper)."""

    project_id: str
    version: int = 0
    name: str | None = None
    park: str | None = None
    chain_tag: str | None = None
    category: str | None = None
    total_investment: int | None = None
    periods: list[int] = field(default_factory=list)
    responsible_unit: str | None = None
    sponsor_leader: str | None = None


def fold(view: ProjectView | ViewRow, data: EventData) -> bool:
    """Folds one registry event into a project's view; True when it is to be saved: a
    registered/updated snapshot only when its version is above the one held; a listing adds its
    period (a set: any order builds the same, and no listing is ever withdrawn)."""
    if isinstance(data, ProjectMasterData):
        if not applies(data.TYPE, data.project_id, incoming=data.version, held=view.version):
            return False  # a late, older snapshot, or the same one again
        view.version = data.version
        view.name = data.name
        view.park = data.park
        view.total_investment = data.total_investment
        view.chain_tag = data.chain_tag
        view.category = data.category
        view.responsible_unit = data.responsible_unit
        view.sponsor_leader = data.sponsor_leader
        return True
    if isinstance(data, ProjectListed):
        if data.period not in view.periods:
            view.periods = sorted([*view.periods, data.period])
        if view.total_investment is None:
            view.total_investment = data.listed_total_investment
        return True
    return False


async def routing_of(uow: UnitOfWork, event: CloudEvent, data: EventData) -> Routing:
    """Alerts carry their routing attributes; other project events borrow them from the projection."""
    if isinstance(data, AlertEvent):
        return Routing(
            event_type=event.type,
            severity=data.severity,
            park=data.park,
            chain_tag=data.chain_tag,
            category=data.category,
            periods=frozenset(data.periods),
            project_id=data.project_id,
            project_name=data.project_name,
            total_investment=data.total_investment,
            alert_key=data.alert_key,
            evaluation_id=data.evaluation_id,
        )
    if isinstance(data, ProjectEvent):
        view = await _route(uow, data.project_id)
        if view is None:
            return Routing(event_type=event.type, project_id=data.project_id)
        return Routing(
            event_type=event.type,
            park=view.park,
            chain_tag=view.chain_tag,
            category=view.category,
            periods=frozenset(view.periods),
            project_id=view.project_id,
            project_name=view.name,
            total_investment=view.total_investment,
        )
    return Routing(event_type=event.type)
