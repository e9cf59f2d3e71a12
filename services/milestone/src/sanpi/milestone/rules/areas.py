"""What the rules need of the areas they judge: a protocol, so that no rules module imports them.

The rules read each project's stage history, milestones, reports, plan, photo findings and open
assigned issues, set
the milestones' due status, and record what they decide on the project's timeline. The service
hands them an `Areas` (milestone/judged.py, through flows.Context), the same object in every
entry point: the flows, the consumers, the jobs and the rules' own routes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from sanpi.events import EventData
from sanpi.kit import Reading, UnitOfWork
from sanpi.kit.named_rows import NamedRow
from sanpi.milestone.rules.facts import PlanRow, ReportRows


class Areas(Protocol):
    """Reads see the transaction's pending rows when handed its unit of work (kit Reading). A
    full pass names its projects by a kit.id_spans.Span: their rows may be read by id range."""

    async def project_ids(self, tx: Reading) -> list[str]:
        """Every tracked project, in id order."""

    async def projects(
        self, tx: Reading, project_ids: Sequence[str]
    ) -> tuple[list[NamedRow], list[NamedRow]]:
        """The projects' rows (the TrackedProject columns the rules and their events read) and
        their stage history
        (project_id, to_stage, effective_date), in order."""

    async def milestones(self, tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
        """The projects' milestones in plan order (id, project_id, kind, label, baseline_date,
        forecast_date, actual_date, status)."""

    async def plans(self, tx: Reading, project_ids: Sequence[str], year: int) -> list[PlanRow]:
        """The projects' investment plans of `year`."""

    async def baselines(self, tx: Reading, project_ids: Sequence[str]) -> list[NamedRow]:
        """The projects' named baselines (project_id, effective_on, dates: [{kind, label,
        date}]), oldest first."""

    async def recent_reports(
        self, tx: Reading, project_ids: Sequence[str], since: dt.date
    ) -> ReportRows:
        """The reports of periods ending on or after `since`, and a row of the older ones'
        highest figures per project (ReportRow)."""

    async def all_reports(self, tx: Reading, project_ids: Sequence[str]) -> ReportRows:
        """Every report of these projects."""

    async def photo_findings(
        self, tx: Reading, project_ids: Sequence[str], since: dt.date
    ) -> list[Any]:
        """The photo findings of milestones dated on or after `since` (PhotoFact's fields,
        after the project id)."""

    async def open_issues(self, tx: Reading, project_ids: Sequence[str], day: dt.date) -> list[Any]:
        """The assigned issues raised by `day` and not closed by it (IssueFact's fields, after
        the project id)."""

    async def set_milestone_statuses(
        self, uow: UnitOfWork, changes: Sequence[dict[str, Any]]
    ) -> None:
        """Writes milestones' new status now: each change is {milestone_id, status, updated_at}."""

    def active_projects(self) -> sa.Subquery:
        """The projects not cancelled, as a subquery of (project_id, park): the traffic lights
        count them in one statement with the alerts."""

    def publish(
        self, uow: UnitOfWork, data: EventData, *, project_id: str, by: str, summary: str
    ) -> None:
        """Publishes an event the rules decided and records it on the project's timeline."""
