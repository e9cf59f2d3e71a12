"""The areas as the rules see them: the milestone service's implementation of rules.areas.Areas,
each method one area's repository or service call (the only module that joins the two)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from sanpi.events import EventData, Stage
from sanpi.kit import Reading, UnitOfWork
from sanpi.kit.named_rows import NamedRow
from sanpi.kit.unit_of_work import session_of
from sanpi.milestone.assigned import repository as assigned
from sanpi.milestone.evidence import repository as evidence
from sanpi.milestone.lifecycle import repository as projects
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.nodes import repository as milestones
from sanpi.milestone.progress import repository as progress
from sanpi.milestone.rules.facts import PlanRow, ReportRows
from sanpi.milestone.timeline import service as timeline


class JudgedAreas:
    """rules.areas.Areas over this service's tables."""

    async def project_ids(self, tx: Reading) -> list[str]:
        return await projects.all_ids(tx)

    async def projects(
        self, tx: Reading, project_ids: Sequence[str]
    ) -> tuple[list[NamedRow], list[NamedRow]]:
        return await projects.rows_for_rules(tx, project_ids)

    async def milestones(self, tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
        return await milestones.rows_for_rules(tx, project_ids)

    async def plans(self, tx: Reading, project_ids: Sequence[str], year: int) -> list[PlanRow]:
        return await progress.plan_facts(tx, project_ids, year)

    async def baselines(self, tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
        return await milestones.baselines_for_rules(tx, project_ids)

    async def recent_reports(
        self, tx: Reading, project_ids: Sequence[str], since: dt.date
    ) -> ReportRows:
        return await progress.recent_report_facts(session_of(tx), project_ids, since)

    async def all_reports(self, tx: Reading, project_ids: Sequence[str]) -> ReportRows:
        return await progress.report_facts(session_of(tx), project_ids)

    async def photo_findings(
        self, tx: Reading, project_ids: Sequence[str], since: dt.date
    ) -> list[Any]:
        return await evidence.findings_for(session_of(tx), project_ids, since)

    async def open_issues(self, tx: Reading, project_ids: Sequence[str], day: dt.date) -> list[Any]:
        return await assigned.open_for_rules(tx, project_ids, day)

    async def set_milestone_statuses(
        self, uow: UnitOfWork, changes: Sequence[dict[str, Any]]
    ) -> None:
        await milestones.set_status(uow.session, changes)

    def active_projects(self) -> sa.Subquery:
        return (
            select(col(TrackedProject.project_id), col(TrackedProject.park))
            .where(col(TrackedProject.stage) != Stage.CANCELLED)
            .subquery()
        )

    def publish(
        self, uow: UnitOfWork, data: EventData, *, project_id: str, by: str, summary: str
    ) -> None:
        timeline.publish(uow, data, project_id=project_id, by=by, summary=summary)


JUDGED = JudgedAreas()
