"""HTTP routes of milestones: record an achievement, replan a forecast, read the plan."""

from __future__ import annotations

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
    ForecastCreate,
    MilestoneCreate,
    MilestonePlanItem,
    MilestonePublic,
    MilestoneWarning,
    evidence_public,
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
        row = recorded.row
        assert row.actual_date is not None
        assert row.recorded_at is not None
        detail = evidence_public(row.evidence)
        answer = MilestonePublic(
            id=row.id,
            project_id=project_id,
            kind=row.kind,
            label=row.label,
            date=row.actual_date,
            evidence=[e.uri for e in detail],
            evidence_detail=detail,
            recorded_by=principal.subject,
            recorded_at=row.recorded_at,
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
