"""HTTP routes of the rules: alerts, traffic lights, and the admin's evaluation "as of" a day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.events import AlertRule, Severity
from sanpi.events.vocabulary import ALERT_RULE_EN, ALERT_RULE_ZH
from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Admin,
    AsOfDay,
    Authenticated,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
)
from sanpi.milestone import flows
from sanpi.milestone.flows import Context
from sanpi.milestone.rules import service
from sanpi.milestone.rules.catalogue import CATALOGUE
from sanpi.milestone.rules.evaluation import RULES
from sanpi.milestone.rules.models import AlertState
from sanpi.milestone.rules.schemas import (
    AlertPublic,
    EvaluationPublic,
    ForecastPublic,
    ParkLightPublic,
    PreviewAlertPublic,
    ProjectionPublic,
    RuleCatalogue,
    RulePublic,
    TrafficLights,
)
from sanpi.milestone.rules.scoped import SCOPED_RULES
from sanpi.milestone.settings import settings_of

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=Page[AlertPublic])
async def list_alerts(
    _principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    project_id: str | None = None,
    rule: AlertRule | None = None,
    severity: Severity | None = None,
    park: str | None = None,
    state: AlertState | None = None,
) -> Page[AlertPublic]:
    """Alerts, oldest first: each row is one episode of a key (raised … resolved)."""
    rows, next_cursor = await service.alert_page(
        session,
        limit=limit,
        cursor=cursor,
        project_id=project_id,
        rule=rule,
        severity=severity,
        park=park,
        state=state,
    )
    return Page(items=[AlertPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/rules", response_model=RuleCatalogue)
async def list_rules(_principal: Authenticated, runtime: RuntimeDep) -> RuleCatalogue:
    """The rule book: every rule with its Chinese and English title and description, the
    colours it raises, whether it is evaluated, and its thresholds as configured."""
    rules = settings_of(runtime).rules
    items = []
    for code, text in CATALOGUE.items():
        configured = getattr(rules, code.lower(), None)
        items.append(
            RulePublic(
                code=code,
                title_zh=ALERT_RULE_ZH[code],
                title_en=ALERT_RULE_EN[code],
                description_zh=text.description_zh,
                description_en=text.description_en,
                severities=list(text.severities),
                evaluated=code in RULES or code in SCOPED_RULES,
                thresholds=configured.model_dump() if configured is not None else {},
            )
        )
    return RuleCatalogue(items=items)


@router.get("/traffic-lights", response_model=TrafficLights)
async def traffic_lights(
    _principal: Authenticated, session: ReadSessionDep, runtime: RuntimeDep
) -> TrafficLights:
    """Per park: active projects counted by colour (their worst firing alert; green when none)
    and an overall colour: red when at least traffic_light_share of them are red, yellow when
    any is red or that share is yellow or worse (orange when orange or worse), else green."""
    ctx = Context.of(runtime)
    lights = await service.traffic_lights(
        session, ctx.areas, share=ctx.settings.traffic_light_share
    )
    return TrafficLights(
        items=[
            ParkLightPublic(park=x.park, projects=x.projects, counts=x.counts, overall=x.overall)
            for x in lights
        ]
    )


@router.get("/projects/{project_id}/forecast", response_model=ForecastPublic)
async def get_forecast(
    project_id: str,
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    as_of: Annotated[
        AsOfDay | None, Query(description="YYYY-MM-DD; default: the evaluation day")
    ] = None,
) -> ForecastPublic:
    """Where the project is heading beside its plan: the start while not started; production
    and the year's investment while under construction (rule R18 warns on the dates)."""
    ctx = Context.of(runtime)
    day = as_of or await service.evaluation_date(session, ctx.clock)
    stage, found = await service.projections(session, ctx.areas, project_id, day)
    return ForecastPublic(
        project_id=project_id,
        as_of=day,
        stage=stage,
        items=[
            ProjectionPublic(
                target=str(p.target),
                planned=p.planned,
                projected=p.projected,
                slip_days=p.slip_days,
                basis=p.basis,
            )
            for p in found
        ],
    )


@router.post("/admin/evaluate", response_model=EvaluationPublic)
async def evaluate(
    principal: Admin,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    as_of: Annotated[AsOfDay | None, Query(description="YYYY-MM-DD; default: today")] = None,
    pin: bool = Query(
        default=False, description="also make as_of the day of later scheduled/event passes"
    ),
) -> EvaluationPublic:
    """Runs every rule for every project as of a day (admin only). The evaluation day (the
    pinned day, else today) is judged for real: alert.raised/updated/resolved with one
    evaluation_id. Another day is a preview (nothing written, nobody notified: `alerts` lists
    what would fire) unless `pin=true` makes it the evaluation day, as demos and training do."""
    day, result = await flows.evaluate_as_of(
        uow, Context.of(runtime), as_of=as_of, pin=pin, by=principal.subject
    )
    return EvaluationPublic(
        evaluation_id=result.evaluation_id,
        as_of=day,
        pinned=pin,
        preview=result.preview,
        projects=result.projects,
        raised=result.raised,
        updated=result.updated,
        resolved=result.resolved,
        alerts=[
            PreviewAlertPublic(
                alert_key=a.key,
                rule=a.rule,
                severity=a.severity,
                project_id=project.project_id if project else None,
                project_name=project.name if project else None,
                park=project.park if project else a.park,
                title=a.title,
                message=a.message,
                title_en=a.title_en,
                message_en=a.message_en,
                metric_value=a.metric_value,
                threshold=a.threshold,
            )
            for project, a in result.would_fire
        ],
        silent=dict(result.silent),
    )


@router.delete("/admin/evaluate/pin", status_code=204)
async def unpin(_principal: Admin, uow: UnitOfWorkDep) -> None:
    """Back to evaluating as of today (undoes `pin=true`)."""
    await service.unpin(uow.session)
