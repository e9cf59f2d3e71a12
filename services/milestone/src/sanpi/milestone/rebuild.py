"""The milestone service's rebuildable projections (sanpi-admin rebuild milestone): the registry's
master data of each tracked project, and the registry's annual targets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProjectListed, ProjectRegistered, ProjectUpdated, TargetSet, Topic
from sanpi.kit import rebuild, utcnow
from sanpi.kit.db import Database
from sanpi.kit.rebuild import Projection, Replayed
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.service import MASTER_FIELDS
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
    memory with the consumer's rules: the first registration, then every newer snapshot, and
    the union of the periods. The swap sets those columns of the projects tracked already; a
    project this service does not track is not created (tracking one starts its own plan and
    stage history, which only the service's consumer does). Rules are not evaluated here: the
    projects whose data changed are marked due (evaluation_due) in the swap, and the service's
    sweep evaluates them when it starts, in its usual passes."""

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
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: list[str] = []

    async def apply(self, _db: Database, batch: Sequence[Replayed]) -> None:
        rows = self.rows
        for _event, data in batch:
            if isinstance(data, ProjectRegistered):
                if data.project_id not in rows:
                    rows[data.project_id] = _master(data, periods=[])
            elif isinstance(data, ProjectUpdated):
                row = rows.get(data.project_id)
                if row is not None and data.version > row["registry_version"]:
                    rows[data.project_id] = _master(data, periods=row["periods"])
            elif isinstance(data, ProjectListed):
                row = rows.get(data.project_id)
                if row is not None and data.period not in row["periods"]:
                    row["periods"] = sorted([*row["periods"], data.period])

    async def finish(self, db: Database) -> None:
        columns = [TRACKED.c.project_id, *(TRACKED.c[name] for name in FOLLOWED)]
        async with db.read() as session:
            live = {
                row.project_id: row._mapping
                for row in (await session.execute(select(*columns))).all()
            }
        self.changed = sorted(
            pid
            for pid, row in self.rows.items()
            if pid in live and any(live[pid][name] != row[name] for name in FOLLOWED)
        )
        await rebuild.insert_rows(
            db,
            self.shadow,
            [{"project_id": pid, **row} for pid, row in self.rows.items() if pid in live],
        )
        self.rows.clear()

    async def swap(self, session: AsyncSession) -> int:
        count = await rebuild.update_from(
            session, self.shadow, TRACKED, key=("project_id", "project_id")
        )
        await _mark_due(session, self.changed)
        return count


def _master(data: ProjectRegistered | ProjectUpdated, *, periods: list[int]) -> dict[str, Any]:
    row = {name: getattr(data, name) for name in MASTER_FIELDS}
    row.update(registry_version=data.version, periods=list(periods))
    return row


async def _mark_due(session: AsyncSession, project_ids: Sequence[str]) -> None:
    """Marks the projects due for evaluation (replacing any mark: a fresh token each)."""
    if not project_ids:
        return
    conn = await session.connection()
    now = utcnow()
    for start in range(0, len(project_ids), rebuild.WRITE_CHUNK):
        chunk = project_ids[start : start + rebuild.WRITE_CHUNK]
        await conn.execute(DUE.delete().where(DUE.c.project_id.in_(chunk)))
        await conn.execute(
            insert(DUE).values(
                [{"project_id": p, "token": str(uuid.uuid4()), "marked_at": now} for p in chunk]
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
