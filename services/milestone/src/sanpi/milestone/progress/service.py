"""Investment plans and progress reports with I/O: validation against history, lateness, events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import ProgressReported, Stage
from sanpi.events.xun import XUNS_PER_YEAR
from sanpi.kit import Conflict, FieldProblem, InvalidInput, Principal, Role, utcnow
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.milestone import metrics
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.progress import repository
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport
from sanpi.milestone.progress.schemas import PlanPut, ProgressCreate
from sanpi.milestone.rules.evaluation import Deadlines
from sanpi.milestone.timeline import service as timeline


def _invalid(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field} {reason}", errors=[FieldProblem(field, reason)])


async def set_plan(
    session: AsyncSession,
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
            FieldProblem(
                "annual_plan", f"exceeds the total investment ({project.total_investment} 万元)"
            )
        )
    for name, split in (("monthly", body.monthly), ("xun", body.xun)):
        if split is not None and sum(split) != body.annual_plan:
            problems.append(
                FieldProblem(name, f"adds up to {sum(split)}, not annual_plan {body.annual_plan}")
            )
    if body.monthly is not None and body.xun is not None:
        by_month = [sum(body.xun[m * 3 : m * 3 + 3]) for m in range(XUNS_PER_YEAR // 3)]
        if by_month != body.monthly:
            problems.append(FieldProblem("xun", "the 旬 of each month must add up to monthly"))
    if problems:
        raise InvalidInput("the investment plan does not add up", errors=problems)
    row = await repository.plan(session, project.project_id, year) or InvestmentPlan(
        project_id=project.project_id, year=year, annual_plan=0, set_by=principal.subject
    )
    row.annual_plan = body.annual_plan
    row.monthly = body.monthly
    row.xun = body.xun
    row.source = "API"
    row.set_by = principal.subject
    row.updated_at = utcnow()
    repository.save(session, row)
    timeline.note(
        session,
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
    session: AsyncSession, project_id: str, *, year: int, amount: int | None, by: str
) -> None:
    """Takes the registry's 年度计划投资 as the year's plan unless one was set here."""
    if amount is None:
        return
    row = await repository.plan(session, project_id, year)
    if row is not None and (row.source != "REGISTRY" or row.annual_plan == amount):
        return
    if row is None:
        # Plain values, no InvestmentPlan object: a registration plans its year this way.
        repository.insert_plan(
            session,
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
        repository.save(session, row)
    timeline.note(
        session,
        project_id=project_id,
        event_type="investment_plan.set",
        by=by,
        summary=f"{year} 年度计划投资 {amount} 万元 (登记数据)",
        data={"year": year, "annual_plan": amount, "source": "REGISTRY"},
    )


async def plans(session: AsyncSession, project_id: str) -> list[InvestmentPlan]:
    return await repository.plans(session, [project_id])


async def report(
    session: AsyncSession,
    *,
    project_id: str,
    body: ProgressCreate,
    principal: Principal,
    today: dt.date,
    deadlines: Deadlines,
) -> dict[str, Any]:
    """Accepts a 旬/月 report of a tracked project (else 404): refuses a falling cumulative
    (unless a correction) and more completed than the total; a report after its deadline is
    accepted and marked late. Returns the stored report's columns."""
    period = body.period
    found = await repository.standing_and_neighbours(
        session, project_id=project_id, period_key=period.key, period_end=period.end
    )
    if found is None:
        raise lifecycle.unknown(project_id)
    project, known = found
    principal.ensure_can_write_park(project.park)
    if project.stage is Stage.CANCELLED:
        raise Conflict("the project is CANCELLED; it reports no more progress")
    if body.submitted_on is not None and principal.role is not Role.ADMIN:
        raise _invalid("submitted_on", "only an admin may backdate a report")
    if body.submitted_on is not None and body.submitted_on > today:
        raise _invalid("submitted_on", f"is after today ({today})")
    submitted_on = body.submitted_on or today
    if period.start > submitted_on:
        raise _invalid("period_key", f"{period.key} has not started on {submitted_on}")
    cum, ytd = body.completed_investment_cum, body.completed_investment_ytd
    if ytd > cum:
        raise _invalid("completed_investment_ytd", f"{ytd} exceeds completed_investment_cum {cum}")
    if cum > project.total_investment:
        raise _invalid(
            "completed_investment_cum",
            f"{cum} exceeds the total investment ({project.total_investment} 万元)",
        )
    if known.same_id is not None and not body.correction:
        raise Conflict(
            f"{period.key} was already reported; send correction=true to replace it",
            period_key=period.key,
        )
    before = 0 if known.before is None else known.before
    after = cum if known.after is None else known.after
    if not body.correction and (cum < before or cum > after):
        bound = f"below {before}" if cum < before else f"above the later {after}"
        raise _invalid(
            "completed_investment_cum",
            f"cumulative {cum} is {bound} reported for an earlier period; a cumulative figure "
            "cannot fall: send correction=true if the earlier figure was wrong",
        )
    deadline = deadlines.deadline(period)
    now = utcnow()
    changed: dict[str, Any] = {
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
        "updated_at": now,
    }
    fixed = {
        "project_id": project.project_id,
        "period_kind": period.kind,
        "period_key": period.key,
        "period_end": period.end,
    }
    if known.same_id is None:
        row = {"id": str(uuid.uuid4()), **fixed, **changed, "created_at": now}
        await repository.insert_report(session, row)
    else:
        await repository.update_report(session, known.same_id, changed)
        row = {"id": known.same_id, **fixed, **changed, "created_at": known.same_created_at}
    metrics.PROGRESS_REPORTS.labels(str(period.kind), "true" if row["late"] else "false").inc()
    timeline.publish(
        session,
        ProgressReported(
            project_id=project.project_id,
            report_id=row["id"],
            period_kind=period.kind,
            period_key=period.key,
            completed_investment_cum=cum,
            completed_investment_ytd=ytd,
            funds_arrived_cum=body.funds_arrived_cum,
            physical_progress_pct=body.physical_progress_pct,
            late=row["late"],
            correction=body.correction,
            reported_by=principal.subject,
        ),
        project_id=project.project_id,
        by=principal.subject,
        summary=f"{period.key} 填报: 累计 {cum} 万元, 本年 {ytd} 万元"
        + (" (迟报)" if row["late"] else "")
        + (" (更正)" if body.correction else ""),
    )
    return row


async def report_page(
    session: AsyncSession, *, project_id: str, limit: int, cursor: str | None
) -> tuple[list[ProgressReport], str | None]:
    rows = await repository.report_page(
        session, project_id=project_id, limit=limit + 1, after=created_key_after(cursor)
    )
    return page_by_created(rows, limit, lambda r: (r.created_at, r.id))
