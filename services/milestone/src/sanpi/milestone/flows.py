"""The milestone service's writes that reach beyond one area: each applies its area's change in
the unit of work it is handed and has the project's rules evaluated after the commit
(rules.service.reevaluate). The endpoints validate, call one of these and shape the answer; the
consumer's handlers (consumers.py) call the ones of the registry's events. No area's endpoints
call the rules themselves. The rules see the areas through Context.areas (judged.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sanpi.events import MilestoneKind, ProjectMasterData
from sanpi.kit import Clock, FieldProblem, InvalidInput, Principal, Runtime, UnitOfWork, today
from sanpi.kit.messages import Lang
from sanpi.milestone.assigned import service as assigned
from sanpi.milestone.assigned.models import AssignedIssue, IssueFeedback
from sanpi.milestone.assigned.schemas import FeedbackCreate, IssueClose, IssueCreate
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.state_machine import Command
from sanpi.milestone.nodes import messages as refusals
from sanpi.milestone.nodes import service as milestones
from sanpi.milestone.nodes.models import Milestone
from sanpi.milestone.nodes.schemas import BaselineCreate, ForecastCreate, MilestoneCreate
from sanpi.milestone.progress import service as progress
from sanpi.milestone.progress.models import InvestmentPlan
from sanpi.milestone.progress.schemas import PlanPut, ProgressCreate
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules.areas import Areas
from sanpi.milestone.rules.evaluation import Deadlines
from sanpi.milestone.settings import MilestoneSettings, settings_of


@dataclass(frozen=True, slots=True)
class Context:
    """What a flow needs of the running service: its settings, its clock, and the areas as the
    rules see them."""

    settings: MilestoneSettings
    clock: Clock
    areas: Areas = JUDGED

    @classmethod
    def of(cls, runtime: Runtime) -> Context:
        return cls(settings_of(runtime), runtime.clock)

    def reevaluate(self, uow: UnitOfWork, project_id: str) -> None:
        rules.reevaluate(
            uow, self.areas, settings=self.settings, clock=self.clock, project_id=project_id
        )


# --- progress reports and plans -------------------------------------------------------------------


async def report_progress(
    uow: UnitOfWork,
    ctx: Context,
    *,
    project_id: str,
    body: ProgressCreate,
    principal: Principal,
) -> dict[str, Any]:
    """A 旬/月 report (progress.service.report), then the project's rules."""
    row = await progress.report(
        uow,
        project_id=project_id,
        body=body,
        principal=principal,
        today=today(ctx.clock),
        deadlines=Deadlines.of(ctx.settings),
    )
    ctx.reevaluate(uow, project_id)
    return row


@dataclass
class BatchOutcomes:
    """Each row's outcome of a batch: its reports', then its milestones'."""

    reports: list[progress.RowOutcome]
    milestones: list[milestones.MilestoneOutcome] = field(default_factory=list)


async def submit_batch(
    uow: UnitOfWork,
    ctx: Context,
    reports: Sequence[progress.BatchRow],
    milestone_rows: Sequence[milestones.MilestoneRow] = (),
    *,
    principal: Principal,
    all_or_nothing: bool,
) -> BatchOutcomes:
    """A batch of reports and milestones. Every row is checked before anything is written
    (progress.check_batch, then milestones.check_batch); then the accepted reports are written
    together, the accepted milestones recorded in their order, and the rules of every project
    with a written row evaluated in one pass after the commit. With `all_or_nothing`, one
    refused row writes nothing."""
    day = today(ctx.clock)
    outcomes = BatchOutcomes([])
    outcomes.reports, accepted = await progress.check_batch(
        uow, reports, principal=principal, today=day, deadlines=Deadlines.of(ctx.settings)
    )
    if milestone_rows:
        outcomes.milestones = await milestones.check_batch(
            uow, milestone_rows, principal=principal, today=day
        )
    refused_reports = [o.index for o in outcomes.reports if o.status == "refused"]
    refused_milestones = [o.index for o in outcomes.milestones if o.status == "refused"]
    if all_or_nothing and (refused_reports or refused_milestones):
        problem = progress.nothing_written(refused_reports, refused_milestones)
        progress.refuse_accepted(outcomes.reports, problem)
        for outcome in outcomes.milestones:
            if outcome.status == "accepted":
                outcome.refuse(problem)
        return outcomes
    await progress.write_batch(uow, accepted)
    await milestones.write_batch(uow, outcomes.milestones, principal=principal, today=day)
    written = [c.row["project_id"] for c in accepted] + [
        o.body.project_id
        for o in outcomes.milestones
        if o.status == "accepted" and o.body is not None
    ]
    for project_id in dict.fromkeys(written):
        ctx.reevaluate(uow, project_id)
    return outcomes


async def report_batch(
    uow: UnitOfWork,
    ctx: Context,
    rows: Sequence[progress.BatchRow],
    *,
    principal: Principal,
    all_or_nothing: bool,
) -> list[progress.RowOutcome]:
    """A batch of reports only (the 旬报 sheet import): submit_batch's reports."""
    outcomes = await submit_batch(
        uow, ctx, rows, principal=principal, all_or_nothing=all_or_nothing
    )
    return outcomes.reports


async def set_plan(
    uow: UnitOfWork,
    ctx: Context,
    *,
    project_id: str,
    year: int,
    body: PlanPut,
    principal: Principal,
) -> InvestmentPlan:
    """The year's investment plan of a tracked project, then its rules."""
    project = await lifecycle.get(uow, project_id)
    row = await progress.set_plan(uow, project=project, year=year, body=body, principal=principal)
    ctx.reevaluate(uow, project_id)
    return row


# --- milestones -----------------------------------------------------------------------------------


async def record_milestone(
    uow: UnitOfWork,
    ctx: Context,
    *,
    project_id: str,
    body: MilestoneCreate,
    principal: Principal,
) -> tuple[TrackedProject, milestones.Recorded]:
    """A reached milestone (which may move the stage), then the project's rules. Returns the
    project as it stands after it, and what was recorded."""
    project = await lifecycle.get(uow, project_id)
    recorded = await milestones.record(
        uow, project=project, body=body, principal=principal, today=today(ctx.clock)
    )
    ctx.reevaluate(uow, project_id)
    return project, recorded


async def replan_milestone(
    uow: UnitOfWork,
    ctx: Context,
    *,
    project_id: str,
    kind: MilestoneKind,
    body: ForecastCreate,
    principal: Principal,
) -> Milestone:
    """A milestone's new forecast date, then the project's rules."""
    project = await lifecycle.get(uow, project_id)
    row = await milestones.replan(uow, project=project, kind=kind, body=body, principal=principal)
    ctx.reevaluate(uow, project_id)
    return row


async def approve_baseline(
    uow: UnitOfWork, ctx: Context, *, project_id: str, body: BaselineCreate, principal: Principal
) -> None:
    """An approved, named change of the plan, then the project's rules."""
    project = await lifecycle.get(uow, project_id)
    day = await rules.evaluation_date(uow.session, ctx.clock)
    await milestones.approve_baseline(
        uow, project=project, body=body, principal=principal, effective_on=day
    )
    ctx.reevaluate(uow, project_id)


# --- assigned issues (交办事项) ---------------------------------------------------------------------


async def raise_issue(
    uow: UnitOfWork,
    ctx: Context,
    *,
    project_id: str,
    body: IssueCreate,
    principal: Principal,
    lang: Lang,
) -> AssignedIssue:
    """An issue assigned to a responsible unit, then the project's rules (R12)."""
    project = await lifecycle.get(uow, project_id)
    row = await assigned.raise_issue(
        uow,
        project=project,
        body=body,
        principal=principal,
        today=today(ctx.clock),
        cfg=ctx.settings.rules.r12,
        lang=lang,
    )
    ctx.reevaluate(uow, project_id)
    return row


async def add_issue_feedback(
    uow: UnitOfWork,
    ctx: Context,
    *,
    issue_id: str,
    body: FeedbackCreate,
    principal: Principal,
    lang: Lang,
    if_match: str | None = None,
) -> tuple[AssignedIssue, IssueFeedback]:
    """Feedback on an open issue (the first stops its feedback clock), then the project's rules."""
    row = await assigned.get_for_update(uow, issue_id)
    project = await lifecycle.get(uow, row.project_id)
    entry = await assigned.add_feedback(
        uow,
        project=project,
        row=row,
        body=body,
        principal=principal,
        today=today(ctx.clock),
        lang=lang,
        if_match=if_match,
    )
    ctx.reevaluate(uow, row.project_id)
    return row, entry


async def close_issue(
    uow: UnitOfWork,
    ctx: Context,
    *,
    issue_id: str,
    body: IssueClose,
    principal: Principal,
    lang: Lang,
    if_match: str | None = None,
) -> AssignedIssue:
    """销号 with evidence, then the project's rules (its R12 alert resolves)."""
    row = await assigned.get_for_update(uow, issue_id)
    project = await lifecycle.get(uow, row.project_id)
    await assigned.close(
        uow,
        project=project,
        row=row,
        body=body,
        principal=principal,
        today=today(ctx.clock),
        lang=lang,
        if_match=if_match,
    )
    ctx.reevaluate(uow, row.project_id)
    return row


# --- the lifecycle --------------------------------------------------------------------------------


def check_suspension(day: dt.date, expected_resume_date: dt.date | None) -> None:
    """A suspension's expected resumption may not come before the suspension itself."""
    if expected_resume_date is not None and expected_resume_date < day:
        raise InvalidInput(
            refusals.RESUME_BEFORE_SUSPENSION(),
            errors=[FieldProblem("expected_resume_date", refusals.IS_BEFORE(day=day))],
        )


async def change_stage(
    uow: UnitOfWork,
    ctx: Context,
    project: TrackedProject,
    cmd: Command,
    *,
    on: dt.date,
    by: str,
    note: str | None,
    expected_resume_date: dt.date | None = None,
) -> TrackedProject:
    """Decides the command on the project's stage, applies it (stage_changed), then its rules."""
    if expected_resume_date is not None:
        check_suspension(on, expected_resume_date)
    decision = lifecycle.command(project, cmd)
    lifecycle.apply(
        uow,
        project,
        decision,
        on=on,
        by=by,
        note=note,
        expected_resume_date=expected_resume_date,
    )
    ctx.reevaluate(uow, project.project_id)
    return project


# --- the registry's events (consumers.py) ---------------------------------------------------------


async def follow_master_data(
    uow: UnitOfWork, ctx: Context, master: ProjectMasterData, *, year: int, by: str
) -> None:
    """The registry's snapshot of a project just applied: its planned dates and annual plan are
    the project's now, then its rules."""
    await milestones.plan_from_registry(uow, master, by=by)
    await progress.plan_from_registry(
        uow, master.project_id, year=year, amount=master.annual_plan_investment, by=by
    )
    ctx.reevaluate(uow, master.project_id)


async def follow_listing(
    uow: UnitOfWork, ctx: Context, *, project_id: str, year: int, amount: int | None, by: str
) -> None:
    """A listing's annual plan (the listing itself applied by lifecycle.listed), then the
    project's rules."""
    await progress.plan_from_registry(uow, project_id, year=year, amount=amount, by=by)
    ctx.reevaluate(uow, project_id)


# --- the rules themselves -------------------------------------------------------------------------


async def evaluate_as_of(
    uow: UnitOfWork, ctx: Context, *, as_of: dt.date | None, pin: bool, by: str
) -> tuple[dt.date, rules.EvaluationResult]:
    """Every rule for every project as of a day (the pinned day or today by default).

    The evaluation day (the pinned day, else today) is judged for real: alerts, milestone
    statuses and their events. Any other day is a preview that writes nothing and notifies
    nobody, unless `pin` makes it the evaluation day first: the explicit clock of demos and
    training, which later scheduled and event-driven passes follow too."""
    current = await rules.evaluation_date(uow.session, ctx.clock)
    day = as_of if as_of is not None else current
    if pin:
        await rules.pin(uow.session, day, by)
    preview = not pin and day != current
    result = await rules.evaluate(uow, ctx.areas, settings=ctx.settings, as_of=day, preview=preview)
    return day, result
