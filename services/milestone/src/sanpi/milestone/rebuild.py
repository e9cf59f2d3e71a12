"""The milestone service's rebuildable projections (sanpi-admin rebuild milestone): the registry's
master data of each tracked project, and the registry's annual targets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Column, MetaData, String, Table, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import TargetSet, Topic
from sanpi.kit import rebuild, utcnow
from sanpi.kit.db import Database
from sanpi.kit.rebuild import Projection, Replayed
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.service import MASTER_FIELDS, Master, MasterEvent, fold_master
from sanpi.milestone.rules.models import EvaluationDue, PortfolioTarget
from sanpi.milestone.settings import MilestoneSettings

TRACKED = cast(Table, TrackedProject.__table__)  # type: ignore[attr-defined]
TARGETS = cast(Table, PortfolioTarget.__table__)  # type: ignore[attr-defined]
DUE = cast(Table, EvaluationDue.__table__)  # type: ignore[attr-defined]
# The tracked project's columns that follow the registry; the rest (stage, its days and
# versions, registered_on) is this service's own: a milestone changes them, not an event.
FOLLOWED = (*MASTER_FIELDS, "registry_version", "periods")


class TrackedProjection(rebuild.Shadowed):
    """The registry's master data of each tracked project (name, park, amounts, 制造业, people,
    planned days, periods listed in) as project.registered/updated/listed give them, folded in
    memory by the consumer's own rule (lifecycle.service.fold_master): the first registration,
    then every newer snapshot, and the union of the periods. The swap sets those columns of
    the projects tracked already, where they differ; a project this service does not track is
    not created (tracking one starts its own plan and stage history, which only the service's
    consumer does). Rules are not evaluated here: the projects whose data changed are marked
    due (evaluation_due) in the swap, and the service's sweep evaluates them when it starts,
    in its usual passes."""

    name = "tracked"
    summary = "跟踪项目的主数据 (tracked_project's master data, 制造业 and periods)"
    topics: tuple[str, ...] = (Topic.PROJECTS.value,)
    replaces = "tracked_project." + ", ".join(FOLLOWED)

    def __init__(self) -> None:
        self.shadow = rebuild.shadow_of(
            Table(
                "tracked_master",
                MetaData(),
                Column("project_id", String(36), primary_key=True),
                *(Column(name, TRACKED.c[name].type) for name in FOLLOWED),
            )
        )
        self.rows: dict[str, Master] = {}

    async def apply(self, _db: Database, batch: Sequence[Replayed]) -> None:
        rows = self.rows
        for _event, data in batch:
            if isinstance(data, MasterEvent):
                folded = fold_master(rows.get(data.project_id), data)
                if folded is not None:
                    rows[data.project_id] = folded

    async def finish(self, db: Database) -> None:
        # Every project folded, tracked or not: the swap joins them to the tracked ones in SQL,
        # instead of reading every live row into Python to compare them here.
        await rebuild.insert_rows(
            db, self.shadow, [{"project_id": pid, **row} for pid, row in self.rows.items()]
        )
        self.rows.clear()

    async def swap(self, session: AsyncSession) -> int:
        await _mark_changed(session, self.shadow)
        return await rebuild.update_from(
            session, self.shadow, TRACKED, key=("project_id", "project_id")
        )


async def _mark_changed(session: AsyncSession, shadow: Table) -> None:
    """Marks due for evaluation the tracked projects whose followed columns the shadow changes,
    by one INSERT … SELECT before the update (replacing any mark). One token serves them all:
    a mark is (project, token), and a change after this one writes a fresh token of its own."""
    conn = await session.connection()
    postgres = conn.dialect.name == "postgresql"
    changed = rebuild.differing(
        shadow, TRACKED, key=("project_id", "project_id"), postgres=postgres
    )
    token = literal(str(uuid.uuid4()), DUE.c.token.type)
    now = literal(utcnow(), DUE.c.marked_at.type)
    mark = (
        (postgresql if postgres else sqlite)
        .insert(DUE)
        .from_select(
            ["project_id", "token", "marked_at"],
            select(shadow.c.project_id, token, now).where(changed),
        )
    )
    await conn.execute(
        mark.on_conflict_do_update(
            index_elements=["project_id"],
            set_={"token": mark.excluded.token, "marked_at": mark.excluded.marked_at},
        )
    )


class TargetsProjection(rebuild.Shadowed):
    """portfolio_target, wholly a projection of target.set (the latest of a year, scope and kind
    wins). R15 reads it at the service's next full pass (scheduled, or POST /v1/admin/evaluate),
    as it does when the consumer applies one."""

    name = "targets"
    summary = "年度目标 (portfolio_target, from target.set)"
    topics: tuple[str, ...] = (Topic.PROJECTS.value,)
    replaces = "portfolio_target"

    def __init__(self) -> None:
        self.shadow = rebuild.shadow_of(TARGETS)
        self.rows: dict[tuple[int, str, str], dict[str, Any]] = {}

    async def apply(self, _db: Database, batch: Sequence[Replayed]) -> None:
        for event, data in batch:
            if isinstance(data, TargetSet):
                self.rows[(data.year, data.scope, data.kind)] = {
                    "year": data.year,
                    "scope": data.scope,
                    "kind": data.kind,
                    "value": data.value,
                    "set_by": data.set_by,
                    # The consumer writes its clock; the event's time is the closest a replay has.
                    "updated_at": event.time,
                }

    async def finish(self, db: Database) -> None:
        await rebuild.insert_rows(db, self.shadow, list(self.rows.values()))
        self.rows.clear()

    async def swap(self, session: AsyncSession) -> int:
        return await rebuild.copy_back(session, self.shadow, TARGETS)


def projections() -> list[Projection]:
    """The milestone service's projections, in the order a rebuild of all of them runs them."""
    return [TrackedProjection(), TargetsProjection()]


def settings() -> MilestoneSettings:
    return MilestoneSettings()
