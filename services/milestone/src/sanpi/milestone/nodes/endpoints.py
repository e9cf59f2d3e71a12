"""HTTP routes of milestones: record an achievement, replan a forecast, read the plan, approve and
compare named baselines."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from sanpi.events import MilestoneKind
from sanpi.kit import (
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
    run_idempotent,
)
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.milestone import flows
from sanpi.milestone.flows import Context
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.nodes import service
from sanpi.milestone.nodes.models import Milestone
from sanpi.milestone.nodes.schemas import (
    BaselineComparison,
    BaselineCreate,
    BaselinePublic,
    BaselineRow,
    ForecastCreate,
    MilestoneCreate,
    MilestonePlanItem,
    MilestonePublic,
    MilestoneWarning,
    evidence_public,
    milestone_public,
)

router = APIRouter(prefix="/projects", tags=["milestones"])


def plan_item(m: Milestone) -> MilestonePlanItem:
    return MilestonePlanItem(
        id=m.id,
        project_id=m.project_id,
        kind=m.kind,
        label=m.label,
        baseline_date=m.baseline_date,
        forecast_date=m.forecast_date,
        actual_date=m.actual_date,
        status=m.status,
        evidence=evidence_public(m.evidence),
        recorded_by=m.recorded_by,
        recorded_at=m.recorded_at,
    )


@router.post(
    "/{project_id}/milestones", status_code=status.HTTP_201_CREATED, response_model=MilestonePublic
)
async def post_milestone(
    project_id: str,
    body: MilestoneCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    """Records a milestone. STARTED and IN_PRODUCTION need a dated evidence reference;
    FULFILLED, STARTED, IN_PRODUCTION and EFFECTIVE move the stage and emit
    sanpi.project.stage_changed.v1; an illegal move answers 409. A cited uploaded photo
    (/v1/evidence/{id}, of this project) taken on another day, or on no known day, is accepted
    with a warning in `warnings` and counts for rule R16."""
    lang = language(accept_language)

    async def record() -> tuple[MilestonePublic, dict[str, str]]:
        project, recorded = await flows.record_milestone(
            uow, Context.of(runtime), project_id=project_id, body=body, principal=principal
        )
        answer = milestone_public(
            recorded.row,
            stage=project.stage,
            warnings=[
                MilestoneWarning(code=w.code, field=w.field, message=w.message.render(lang))
                for w in recorded.warnings
            ],
        )
        return answer, {}

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope=f"POST /v1/projects/{project_id}/milestones",
        payload=body,
        action=record,
    )


@router.post("/{project_id}/milestones/{kind}/forecast", response_model=MilestonePlanItem)
async def replan(
    project_id: str,
    kind: MilestoneKind,
    body: ForecastCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> MilestonePlanItem:
    """Moves a milestone's forecast date (the baseline stays) and emits milestone.replanned."""
    row = await flows.replan_milestone(
        uow, Context.of(runtime), project_id=project_id, kind=kind, body=body, principal=principal
    )
    return plan_item(row)


@router.get("/{project_id}/milestones", response_model=Page[MilestonePlanItem])
async def get_plan(
    project_id: str, _principal: Authenticated, session: ReadSessionDep
) -> Page[MilestonePlanItem]:
    """The milestone plan: baseline, forecast and actual dates, status and evidence (one page:
    at most the 13 kinds plus the CUSTOM ones)."""
    await lifecycle.get(session, project_id)
    return Page(items=[plan_item(m) for m in await service.plan(session, project_id)])


def comparison(found: service.Baselines) -> BaselineComparison:
    """Each milestone in the original plan, each named baseline, today's plan and reality."""
    original = BaselinePublic(
        name=service.ORIGINAL,
        reason=None,
        approved_by=None,
        approved_at=None,
        dates={
            service.node_name(m.kind, m.label): m.baseline_date
            for m in found.plan
            if m.baseline_date is not None
        },
    )
    named = [
        BaselinePublic(
            name=b.name,
            reason=b.reason,
            approved_by=b.approved_by,
            approved_at=b.approved_at,
            effective_on=b.effective_on,
            dates={
                service.node_name(MilestoneKind(d["kind"]), d["label"]): dt.date.fromisoformat(
                    d["date"]
                )
                for d in b.dates
            },
        )
        for b in found.named
    ]
    rows = []
    for m in found.plan:
        name = service.node_name(m.kind, m.label)
        current = m.forecast_date or m.baseline_date
        reached = m.actual_date or current
        rows.append(
            BaselineRow(
                milestone=name,
                original=m.baseline_date,
                planned={b.name: b.dates.get(name) for b in named},
                current=current,
                actual=m.actual_date,
                slip_days=(reached - m.baseline_date).days
                if reached is not None and m.baseline_date is not None
                else None,
            )
        )
    return BaselineComparison(baselines=[original, *named], milestones=rows)


@router.post(
    "/{project_id}/baselines",
    status_code=status.HTTP_201_CREATED,
    response_model=BaselineComparison,
)
async def approve_baseline(
    project_id: str,
    body: BaselineCreate,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> BaselineComparison:
    """An approved plan change under a name (e.g. 2023年中调整), with its reason: the milestones'
    new dates become their forecasts (milestone.replanned); the original plan stays, and the
    rules measure against the new dates while reporting the slip from the original."""
    await flows.approve_baseline(
        uow, Context.of(runtime), project_id=project_id, body=body, principal=principal
    )
    return comparison(await service.baselines(uow, project_id))


@router.get("/{project_id}/baselines", response_model=BaselineComparison)
async def get_baselines(
    project_id: str, _principal: Authenticated, session: ReadSessionDep
) -> BaselineComparison:
    """The original plan (原计划), every named baseline and today's plan, milestone by
    milestone, with each one's slip from the original in days."""
    await lifecycle.get(session, project_id)
    return comparison(await service.baselines(session, project_id))
