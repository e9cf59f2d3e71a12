"""Events the milestone service consumes: the registry's projects, listings, cancellations, targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sanpi.events import (
    CloudEvent,
    EventData,
    ProjectCancelled,
    ProjectListed,
    ProjectMasterData,
    ProjectRegistered,
    ProjectUpdated,
    TargetSet,
    Topic,
)
from sanpi.kit import Clock, Database, Handlers, UnitOfWork
from sanpi.milestone import flows
from sanpi.milestone.lifecycle import repository as tracked
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.nodes import repository as planned
from sanpi.milestone.progress import repository as plans
from sanpi.milestone.rules import repository as rules
from sanpi.milestone.rules.service import evaluate_left
from sanpi.milestone.settings import MilestoneSettings

CONSUMED_TOPICS = (Topic.PROJECTS,)


def build_handlers(settings: MilestoneSettings, clock: Clock) -> Handlers[Any]:
    """The handlers, bound to the settings and clock that event-driven evaluation needs.

    Each runs inside the consumer's transaction together with its inbox row; each is also
    idempotent by content (versions, sets), so a re-sent snapshot changes nothing either."""
    handlers: Handlers[Any] = Handlers()

    @handlers.before_batch
    async def prefetch(uow: UnitOfWork, batch: Sequence[EventData]) -> None:
        # Every handler below looks up its project (a listing only its periods), the registered
        # and updated ones their milestones, those and the listed ones their plans: one query
        # each for the batch instead of up to three per event.
        listed = _ids(d for d in batch if isinstance(d, ProjectListed))
        master = _ids(d for d in batch if isinstance(d, ProjectMasterData))
        others = _ids(d for d in batch if not isinstance(d, ProjectListed))
        if others:
            await tracked.prefetch(uow, others)
        if listed:
            await tracked.prefetch_periods(uow, listed)
        if master:
            await planned.prefetch(uow, master)
        if listed or master:
            await plans.prefetch(uow, sorted({*listed, *master}))

    ctx = flows.Context(settings, clock)

    @handlers.when_caught_up
    async def evaluate_deferred(db: Database) -> None:
        # The batches applied while catching up only marked their projects: each is evaluated
        # once now, in passes of at most MAX_BATCH projects.
        if settings.evaluate_on_events:
            await evaluate_left(db, ctx.areas, settings, clock, before=None)

    @handlers.on(ProjectRegistered)
    async def on_registered(uow: UnitOfWork, event: CloudEvent, data: ProjectRegistered) -> None:
        since = await lifecycle.track(uow, event, data)
        if since is not None:
            await flows.follow_master_data(uow, ctx, data, year=since.year, by="registry")

    @handlers.on(ProjectUpdated)
    async def on_updated(uow: UnitOfWork, event: CloudEvent, data: ProjectUpdated) -> None:
        project = await lifecycle.update(uow, event, data, data.updated_by)
        if project is not None:
            await flows.follow_master_data(
                uow,
                ctx,
                data,
                year=project.stage_since.year,
                by=data.updated_by or "registry",
            )

    @handlers.on(ProjectListed)
    async def on_listed(uow: UnitOfWork, event: CloudEvent, data: ProjectListed) -> None:
        if await lifecycle.listed(uow, event, data) and data.event_date is not None:
            await flows.follow_listing(
                uow,
                ctx,
                project_id=data.project_id,
                year=data.event_date.year,
                amount=data.listed_annual_plan,
                by=data.listed_by or "registry",
            )

    @handlers.on(ProjectCancelled)
    async def on_cancelled(uow: UnitOfWork, _event: CloudEvent, data: ProjectCancelled) -> None:
        project = await lifecycle.cancelled(uow, data)
        if project is not None:
            # A cancelled project leaves every rule's reach: its alerts resolve now.
            ctx.reevaluate(uow, data.project_id)

    @handlers.on(TargetSet)
    async def on_target(uow: UnitOfWork, _event: CloudEvent, data: TargetSet) -> None:
        # R15 reads it at the next full pass (scheduled, or POST /v1/admin/evaluate).
        await rules.set_target(uow.session, data)

    return handlers


def _ids(batch: Iterable[EventData]) -> list[str]:
    return sorted({pid for data in batch if (pid := getattr(data, "project_id", None))})
