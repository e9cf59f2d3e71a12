"""Investment plans and progress reports with I/O: validation against history, lateness, events."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProgressReported, Stage
from sanpi.events.xun import XUNS_PER_YEAR
from sanpi.kit import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    Principal,
    Problem,
    Reading,
    Role,
    UnitOfWork,
    utcnow,
)
from sanpi.kit.messages import Bilingual, FieldMessage, Message
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.milestone import batch_rows, metrics
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.repository import Standing
from sanpi.milestone.messages import UNKNOWN_PROJECT
from sanpi.milestone.progress import repository
from sanpi.milestone.progress.messages import (
    ABOVE_LATER,
    ABOVE_TOTAL,
    AFTER_TODAY,
    ALREADY_REPORTED,
    BACKDATE_ADMIN,
    BELOW_EARLIER,
    CANCELLED,
    CUM_FALLS,
    NOT_STARTED,
    NOTHING_WRITTEN,
    NOTHING_WRITTEN_OF,
    PLAN_ABOVE_TOTAL,
    PLAN_REFUSED,
    SAME_IN_BATCH,
    SPLIT_SUM,
    XUN_BY_MONTH,
    YTD_ABOVE_CUM,
)
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport
from sanpi.milestone.progress.repository import Neighbours
from sanpi.milestone.progress.schemas import PlanPut, ProgressBatchItem, ProgressCreate
from sanpi.milestone.rules.evaluation import Deadlines
from sanpi.milestone.timeline import service as timeline


async def set_plan(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    year: int,
    body: PlanPut,
    principal: Principal,
) -> InvestmentPlan:
    """Sets the annual plan of a year, with optional monthly and 旬 splits that must add up."""
    principal.ensure_can_write_park(project.park)
    problems = []
    if body.annual_plan > project.total_investment:
        problems.append(
            FieldProblem("annual_plan", PLAN_ABOVE_TOTAL(total=project.total_investment))
        )
    for name, split in (("monthly", body.monthly), ("xun", body.xun)):
        if split is not None and sum(split) != body.annual_plan:
            problems.append(FieldProblem(name, SPLIT_SUM(sum=sum(split), annual=body.annual_plan)))
    if body.monthly is not None and body.xun is not None:
        by_month = [sum(body.xun[m * 3 : m * 3 + 3]) for m in range(XUNS_PER_YEAR // 3)]
        if by_month != body.monthly:
            problems.append(FieldProblem("xun", XUN_BY_MONTH()))
    if problems:
        raise InvalidInput(PLAN_REFUSED(), errors=problems)
    row = await repository.plan(uow, project.project_id, year) or InvestmentPlan(
        project_id=project.project_id, year=year, annual_plan=0, set_by=principal.subject
    )
    row.annual_plan = body.annual_plan
    row.monthly = body.monthly
    row.xun = body.xun
    row.source = "API"
    row.set_by = principal.subject
    row.updated_at = utcnow()
    repository.save(uow, row)
    timeline.note(
        uow,
        project_id=project.project_id,
        event_type="investment_plan.set",
        by=principal.subject,
        summary=f"{year} 年度计划投资 {body.annual_plan} 万元"
        + ("" if body.monthly is None else ", 按月分解")
        + ("" if body.xun is None else ", 按旬分解"),
        data={"year": year, **body.model_dump(mode="json")},
    )
    return row


async def plan_from_registry(
    uow: UnitOfWork, project_id: str, *, year: int, amount: int | None, by: str
) -> None:
    """Takes the registry's 年度计划投资 as the year's plan unless one was set here."""
    if amount is None:
        return
    row = await repository.plan(uow, project_id, year)
    if row is not None and (row.source != "REGISTRY" or row.annual_plan == amount):
        return
    if row is None:
        # Plain values, no InvestmentPlan object: a registration plans its year this way.
        repository.insert_plan(
            uow,
            {
                "id": str(uuid.uuid4()),
                "project_id": project_id,
                "year": year,
                "annual_plan": amount,
                "monthly": None,
                "xun": None,
                "source": "REGISTRY",
                "set_by": by,
                "updated_at": utcnow(),
            },
        )
    else:
        row.annual_plan = amount
        row.updated_at = utcnow()
        repository.save(uow, row)
    timeline.note(
        uow,
        project_id=project_id,
        event_type="investment_plan.set",
        by=by,
        summary=f"{year} 年度计划投资 {amount} 万元 (登记数据)",
        data={"year": year, "annual_plan": amount, "source": "REGISTRY"},
    )


async def plans(tx: Reading, project_id: str) -> list[InvestmentPlan]:
    return await repository.plans(tx, [project_id])


class Refused(Exception):
    """A report the rules refuse, with the HTTP status the single route answers and what is wrong
    (in both languages): the single route raises it as a Problem, the batch lists it by row."""

    def __init__(self, status: int, problem: FieldMessage, **extra: Any) -> None:
        super().__init__(problem.message.render("en"))
        self.status = status
        self.problem = problem
        self.extra = extra

    def as_problem(self) -> Problem:
        """As the single report route answers it, in the reader's language."""
        reason = self.problem.message
        name = self.problem.field
        if self.status == 404:
            return NotFound(reason)
        if self.status == 403:
            return Forbidden(reason)
        if self.status == 409:
            return Conflict(reason, **self.extra)
        return InvalidInput.naming([FieldProblem(name, reason)])


def _refuse(status: int, field: str, message: Message, **extra: Any) -> Refused:
    return Refused(status, FieldMessage(field, message), **extra)


@dataclass(frozen=True)
class Checked:
    """A report the rules accept: its stored columns, and the report of the same period it
    replaces (a correction), if any."""

    row: dict[str, Any]
    replaces: str | None

    @property
    def late(self) -> bool:
        return bool(self.row["late"])


def check_report(
    found: tuple[Standing, Neighbours] | None,
    *,
    project_id: str,
    body: ProgressCreate,
    principal: Principal,
    today: dt.date,
    deadlines: Deadlines,
    now: dt.datetime,
) -> Checked:
    """The rules of a report against its project and its other reports (pure): refuses (Refused)
    an unknown project (404), another park's (403), a cancelled one (409), a falling cumulative
    unless a correction, more completed than the total, a period already reported unless a
    correction (409); a report after its deadline is accepted and marked late."""
    if found is None:
        raise _refuse(404, "project_id", UNKNOWN_PROJECT(project_id=project_id))
    project, known = found
    if not principal.can_write_park(project.park):
        raise _refuse(403, "project_id", principal.park_refused(project.park))
    if project.stage is Stage.CANCELLED:
        raise _refuse(409, "project_id", CANCELLED())
    period = body.period
    if body.submitted_on is not None and principal.role is not Role.ADMIN:
        raise _refuse(422, "submitted_on", BACKDATE_ADMIN())
    if body.submitted_on is not None and body.submitted_on > today:
        raise _refuse(422, "submitted_on", AFTER_TODAY(today=today))
    submitted_on = body.submitted_on or today
    if period.start > submitted_on:
        raise _refuse(422, "period_key", NOT_STARTED(period=period.key, day=submitted_on))
    cum, ytd = body.completed_investment_cum, body.completed_investment_ytd
    if ytd > cum:
        raise _refuse(422, "completed_investment_ytd", YTD_ABOVE_CUM(ytd=ytd, cum=cum))
    if cum > project.total_investment:
        raise _refuse(
            422, "completed_investment_cum", ABOVE_TOTAL(cum=cum, total=project.total_investment)
        )
    if known.same_id is not None and not body.correction:
        raise _refuse(409, "period_key", ALREADY_REPORTED(period=period.key), period_key=period.key)
    before = 0 if known.before is None else known.before
    after = cum if known.after is None else known.after
    if not body.correction and (cum < before or cum > after):
        bound = BELOW_EARLIER(before=before) if cum < before else ABOVE_LATER(after=after)
        raise _refuse(422, "completed_investment_cum", CUM_FALLS(cum=cum, bound=bound))
    deadline = deadlines.deadline(period)
    row: dict[str, Any] = {
        "id": known.same_id or str(uuid.uuid4()),
        "project_id": project.project_id,
        "period_kind": period.kind,
        "period_key": period.key,
        "period_end": period.end,
        "completed_investment_cum": cum,
        "completed_investment_ytd": ytd,
        "funds_arrived_cum": body.funds_arrived_cum,
        "physical_progress_pct": body.physical_progress_pct,
        "narrative": body.narrative,
        "problems": [p.model_dump() for p in body.problems],
        "deadline": deadline,
        "submitted_on": submitted_on,
        "late": submitted_on > deadline,
        "correction": body.correction,
        # Below an earlier period only: the ORM version compared with the same period's row
        # after overwriting its figure, so a period's own earlier figure never counted.
        "lowered_by_correction": body.correction and cum < before,
        "reported_by": principal.subject,
        "created_at": known.same_created_at if known.same_id is not None else now,
        "updated_at": now,
    }
    return Checked(row, known.same_id)


# The columns a correction rewrites (the others name the report and when it was first made).
_CHANGED = (
    "completed_investment_cum",
    "completed_investment_ytd",
    "funds_arrived_cum",
    "physical_progress_pct",
    "narrative",
    "problems",
    "deadline",
    "submitted_on",
    "late",
    "correction",
    "lowered_by_correction",
    "reported_by",
    "updated_at",
)


def changed_columns(checked: Checked) -> dict[str, Any]:
    return {name: checked.row[name] for name in _CHANGED}


def announce(uow: UnitOfWork, checked: Checked) -> None:
    """The accepted report's event (outbox), timeline entry and metric."""
    row = checked.row
    period_key = row["period_key"]
    cum, ytd = row["completed_investment_cum"], row["completed_investment_ytd"]
    metrics.PROGRESS_REPORTS.labels(
        str(row["period_kind"]), "true" if row["late"] else "false"
    ).inc()
    timeline.publish(
        uow,
        ProgressReported(
            project_id=row["project_id"],
            report_id=row["id"],
            period_kind=row["period_kind"],
            period_key=period_key,
            completed_investment_cum=cum,
            completed_investment_ytd=ytd,
            funds_arrived_cum=row["funds_arrived_cum"],
            physical_progress_pct=row["physical_progress_pct"],
            late=row["late"],
            correction=row["correction"],
            reported_by=row["reported_by"],
        ),
        project_id=row["project_id"],
        by=row["reported_by"],
        summary=f"{period_key} 填报: 累计 {cum} 万元, 本年 {ytd} 万元"
        + (" (迟报)" if row["late"] else "")
        + (" (更正)" if row["correction"] else ""),
    )


async def report(
    uow: UnitOfWork,
    *,
    project_id: str,
    body: ProgressCreate,
    principal: Principal,
    today: dt.date,
    deadlines: Deadlines,
) -> dict[str, Any]:
    """Accepts a 旬/月 report of a tracked project (check_report; refusals as problem+json in
    English). Returns the stored report's columns."""
    period = body.period
    found = await repository.standing_and_neighbours(
        uow.session, project_id=project_id, period_key=period.key, period_end=period.end
    )
    try:
        checked = check_report(
            found,
            project_id=project_id,
            body=body,
            principal=principal,
            today=today,
            deadlines=deadlines,
            now=utcnow(),
        )
    except Refused as refused:
        raise refused.as_problem() from None
    if checked.replaces is None:
        await repository.insert_report(uow.session, checked.row)
    else:
        await repository.update_report(uow.session, checked.replaces, changed_columns(checked))
    announce(uow, checked)
    return checked.row


# --- batches --------------------------------------------------------------------------------------


BatchRow = batch_rows.BatchRow[ProgressBatchItem]


def read_rows(raw: Sequence[Any]) -> list[BatchRow]:
    """Each row validated alone (the single report's model plus project_id)."""
    return batch_rows.read_rows(raw, ProgressBatchItem)


BatchStatus = Literal["accepted", "late", "duplicate", "refused"]


@dataclass
class RowOutcome:
    index: int
    project_id: str | None
    status: BatchStatus
    report: dict[str, Any] | ProgressReport | None = None
    problems: list[FieldMessage] = field(default_factory=list)


def _same_figures(stored: ProgressReport, body: ProgressCreate) -> bool:
    """Whether a report already stored says what `body` says (a resent row, not a correction)."""
    return (
        stored.completed_investment_cum,
        stored.completed_investment_ytd,
        stored.funds_arrived_cum,
        stored.physical_progress_pct,
        stored.narrative,
        stored.problems,
    ) == (
        body.completed_investment_cum,
        body.completed_investment_ytd,
        body.funds_arrived_cum,
        body.physical_progress_pct,
        body.narrative,
        [p.model_dump() for p in body.problems],
    )


@dataclass
class _Point:
    """A report of a project with several rows in the batch, as its later rows see it."""

    report_id: str
    end: dt.date
    cum: int
    created_at: dt.datetime


def _neighbours(points: dict[str, _Point], period_key: str, period_end: dt.date) -> Neighbours:
    """What repository.standing_and_neighbours computes, from the points of one project."""
    same = points.get(period_key)
    others = [p for key, p in points.items() if key != period_key]
    before = [p.cum for p in others if p.end <= period_end]
    after = [p.cum for p in others if p.end >= period_end]
    return Neighbours(
        same.report_id if same else None,
        same.created_at if same else None,
        max(before) if before else None,
        min(after) if after else None,
    )


async def check_batch(
    uow: UnitOfWork,
    rows: Sequence[BatchRow],
    *,
    principal: Principal,
    today: dt.date,
    deadlines: Deadlines,
) -> tuple[list[RowOutcome], list[Checked]]:
    """Checks every row by check_report, as the single route does, against the database and the
    rows before it in the batch; writes nothing (write_batch writes the accepted ones). A row of
    the same period and figures as a stored report is a duplicate (a resent batch), not a
    conflict; a project's period twice in one batch is refused the second time. Returns each
    row's outcome in the rows' order, and the accepted reports."""
    now = utcnow()
    outcomes: dict[int, RowOutcome] = {}
    valid = [r for r in rows if r.body is not None]
    for r in rows:
        if r.body is None:
            outcomes[r.index] = RowOutcome(r.index, r.project_id, "refused", None, r.problems)
    wanted = []
    for r in valid:
        assert r.body is not None
        period = r.body.period
        wanted.append((r.index, r.body.project_id, period.key, period.end))
    found = await repository.standings_and_neighbours(uow.session, wanted)
    rows_per_project = Counter(r.project_id for r in valid)
    several = sorted(p for p, n in rows_per_project.items() if n > 1 and p is not None)
    # Projects with several rows: their reports as points, which each accepted row then changes.
    points: dict[str, dict[str, _Point]] = {project_id: {} for project_id in several}
    stored: dict[str, ProgressReport] = {}
    for report_row in await repository.reports_of(uow.session, several) if several else []:
        stored[report_row.id] = report_row
        points[report_row.project_id][report_row.period_key] = _Point(
            report_row.id,
            report_row.period_end,
            report_row.completed_investment_cum,
            report_row.created_at,
        )
    # The stored reports a row may repeat (same period, no correction), for the duplicate check.
    repeated = [
        known.same_id
        for r in valid
        if r.index in found and r.project_id not in points and r.body and not r.body.correction
        for _standing, known in [found[r.index]]
        if known.same_id is not None
    ]
    if repeated:
        stored.update({s.id: s for s in await repository.reports_by_id(uow.session, repeated)})
    in_batch: dict[tuple[str, str], int] = {}
    accepted: list[Checked] = []
    for r in valid:
        body = r.body
        assert body is not None
        period = body.period
        here = found.get(r.index)
        if here is not None and body.project_id in points:
            here = (here[0], _neighbours(points[body.project_id], period.key, period.end))
        earlier = in_batch.get((body.project_id, period.key))
        if earlier is not None:
            problem = FieldMessage(
                "period_key", SAME_IN_BATCH(other=earlier + 1, period=period.key)
            )
            outcomes[r.index] = RowOutcome(r.index, r.project_id, "refused", None, [problem])
            continue
        try:
            checked = check_report(
                here,
                project_id=body.project_id,
                body=body,
                principal=principal,
                today=today,
                deadlines=deadlines,
                now=now,
            )
        except Refused as refused:
            same_id = here[1].same_id if here is not None else None
            repeat = stored.get(same_id) if same_id is not None else None
            if (
                refused.problem.message.template is ALREADY_REPORTED
                and repeat is not None
                and _same_figures(repeat, body)
            ):
                outcomes[r.index] = RowOutcome(r.index, r.project_id, "duplicate", repeat)
                in_batch[(body.project_id, period.key)] = r.index
                continue
            outcomes[r.index] = RowOutcome(
                r.index, r.project_id, "refused", None, [refused.problem]
            )
            continue
        in_batch[(body.project_id, period.key)] = r.index
        if body.project_id in points:
            points[body.project_id][period.key] = _Point(
                checked.row["id"],
                period.end,
                body.completed_investment_cum,
                checked.row["created_at"],
            )
        accepted.append(checked)
        status: BatchStatus = "late" if checked.late else "accepted"
        outcomes[r.index] = RowOutcome(r.index, r.project_id, status, checked.row)
    return [outcomes[r.index] for r in rows], accepted


async def write_batch(uow: UnitOfWork, accepted: Sequence[Checked]) -> None:
    """Writes the reports check_batch accepted together (one INSERT and one UPDATE
    executemany), with their events."""
    await repository.insert_reports(uow.session, [c.row for c in accepted if c.replaces is None])
    await repository.update_reports(
        uow.session,
        [{"id": c.replaces, **changed_columns(c)} for c in accepted if c.replaces is not None],
    )
    for checked in accepted:
        announce(uow, checked)


def nothing_written(reports: Sequence[int], milestones: Sequence[int]) -> FieldMessage:
    """Why an accepted row is refused when all_or_nothing and other rows were refused (by their
    indexes in `reports` and in `milestones`)."""
    if not milestones:
        return FieldMessage("", NOTHING_WRITTEN(rows="、".join(str(i + 1) for i in reports)))
    zh, en = [], []
    if reports:
        zh.append("进度填报第 " + "、".join(str(i + 1) for i in reports) + " 条")
        en.append("report row(s) " + ", ".join(str(i + 1) for i in reports))
    zh.append("里程碑第 " + "、".join(str(i + 1) for i in milestones) + " 条")
    en.append("milestone row(s) " + ", ".join(str(i + 1) for i in milestones))
    rows = Bilingual("、".join(zh), " and ".join(en))
    return FieldMessage("", NOTHING_WRITTEN_OF(rows=rows))


def refuse_accepted(outcomes: Sequence[RowOutcome], problem: FieldMessage) -> None:
    """all_or_nothing with a refused row: every accepted row is refused too, for `problem`."""
    for outcome in outcomes:
        if outcome.status in ("accepted", "late"):
            outcome.status, outcome.report, outcome.problems = "refused", None, [problem]


async def report_page(
    session: AsyncSession, *, project_id: str, limit: int, cursor: str | None
) -> tuple[list[ProgressReport], str | None]:
    rows = await repository.report_page(
        session, project_id=project_id, limit=limit + 1, after=created_key_after(cursor)
    )
    return page_by_created(rows, limit, lambda r: (r.created_at, r.id))
