"""The registry's rebuildable projections (sanpi-admin rebuild registry): stage and funds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Column, MetaData, String, Table, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProgressReported, ProjectStageChanged, Stage, Topic
from sanpi.events.xun import parse_period
from sanpi.kit import rebuild
from sanpi.kit.db import Database
from sanpi.kit.rebuild import Projection, Replayed
from sanpi.registry.indicators.models import FundsReport
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.service import StageRow, fold_stage_change
from sanpi.registry.settings import RegistrySettings

PROJECTS = cast(Table, Project.__table__)  # type: ignore[attr-defined]
FUNDS = cast(Table, FundsReport.__table__)  # type: ignore[attr-defined]
STAGE_COLUMNS = (
    "stage",
    "stage_version",
    "fulfilled_date",
    "started_date",
    "production_date",
    "effective_date",
)


class StageProjection(rebuild.Shadowed):
    """The `stage` of each project and the days it reached each stage, from its project.stage_changed
    events. They are columns of the project table (the registry's own rows): the replay starts
    every project from what its registration gave it (its initial stage; the start day it
    declared when registered under construction), folds the changes in memory with the consumer's
    own rule (projects.service.fold_stage_change), and the swap sets those columns only."""

    name = "stage"
    summary = "阶段投影 (project.stage and the days each stage was reached)"
    topics: tuple[str, ...] = (Topic.MILESTONES.value,)
    replaces = "project.stage, stage_version, fulfilled_date, started_date, production_date, effective_date"

    def __init__(self) -> None:
        self.shadow = rebuild.shadow_of(_stage_table())
        self.rows: dict[str, StageRow] = {}

    async def prepare(self, db: Database) -> None:
        await super().prepare(db)
        columns = (PROJECTS.c.id, PROJECTS.c.initial_stage, PROJECTS.c.started_date)
        async with db.read() as session:
            for project_id, initial, started in (await session.execute(select(*columns))).all():
                declared = started if initial == Stage.UNDER_CONSTRUCTION else None
                self.rows[project_id] = StageRow(
                    project_id, Stage(initial), 0, None, declared, None, None
                )

    async def apply(self, _db: Database, batch: Sequence[Replayed]) -> None:
        rows = self.rows
        for _event, data in batch:
            if isinstance(data, ProjectStageChanged) and (row := rows.get(data.project_id)):
                fold_stage_change(row, data)

    async def finish(self, db: Database) -> None:
        await rebuild.insert_rows(
            db,
            self.shadow,
            [
                {"project_id": row.id, **{name: getattr(row, name) for name in STAGE_COLUMNS}}
                for row in self.rows.values()
            ],
        )
        self.rows.clear()

    async def swap(self, session: AsyncSession) -> int:
        return await rebuild.update_from(session, self.shadow, PROJECTS, key=("project_id", "id"))


def _stage_table() -> Table:
    return Table(
        "project_stage",
        MetaData(),
        Column("project_id", String(36), primary_key=True),
        *(Column(name, PROJECTS.c[name].type) for name in STAGE_COLUMNS),
    )


class FundsProjection(rebuild.Shadowed):
    """到位资金 per project and report period, from progress.reported (the funds_report table,
    wholly a projection). Each batch's reports are upserted (a later report of the same period
    replaces the earlier, as the consumer's does)."""

    name = "funds"
    summary = "到位资金投影 (funds_report, from progress.reported)"
    topics: tuple[str, ...] = (Topic.MILESTONES.value,)
    replaces = "funds_report"

    def __init__(self) -> None:
        self.shadow = rebuild.shadow_of(FUNDS)

    async def apply(self, db: Database, batch: Sequence[Replayed]) -> None:
        # Within a batch the last report of a (project, period) wins, as it would one by one.
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for _event, data in batch:
            if isinstance(data, ProgressReported) and data.funds_arrived_cum is not None:
                latest[(data.project_id, data.period_key)] = {
                    "project_id": data.project_id,
                    "period_key": data.period_key,
                    "period_end": _period_end(data.period_key),
                    "funds_arrived_cum": data.funds_arrived_cum,
                }
        await rebuild.upsert_rows(
            db, self.shadow, list(latest.values()), replace=("funds_arrived_cum",)
        )

    async def swap(self, session: AsyncSession) -> int:
        return await rebuild.copy_back(session, self.shadow, FUNDS)


_ENDS: dict[str, dt.date] = {}


def _period_end(key: str) -> dt.date:
    end = _ENDS.get(key)
    if end is None:
        end = _ENDS[key] = parse_period(key).end
    return end


def projections() -> list[Projection]:
    """The registry's projections, in the order a rebuild of all of them runs them."""
    return [StageProjection(), FundsProjection()]


def settings() -> RegistrySettings:
    return RegistrySettings()
