"""Project rules: register, read, list, change, cancel, and the stage projection. Never commits."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    CancelReason,
    EnterpriseInfo,
    ProjectCancelled,
    ProjectRegistered,
    ProjectStageChanged,
    ProjectUpdated,
    Stage,
)
from sanpi.kit import (
    CAMPAIGN_TZ,
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    Page,
    Principal,
    Problem,
    UnitOfWork,
    check_versions,
    decode_cursor,
    encode_cursor,
    pagination,
    utcnow,
)
from sanpi.kit.projection import applies
from sanpi.registry.projects import messages as refusals
from sanpi.registry.projects import repository, rules
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.repository import ProjectFilter
from sanpi.registry.projects.schemas import (
    CancelRequest,
    ProjectCreate,
    ProjectPublic,
    ProjectSort,
    ProjectUpdate,
)

log = logging.getLogger("sanpi.registry.projects")

REQUIRED = ("name", "park", "total_investment")

# The stage a stage_changed moves to → the projection column holding the day it was reached.
REACHED_DATE_COLUMN: dict[Stage, str] = {
    Stage.FULFILLING: "fulfilled_date",
    Stage.UNDER_CONSTRUCTION: "started_date",
    Stage.IN_PRODUCTION: "production_date",
    Stage.EFFECTIVE: "effective_date",
}
FORWARD: tuple[Stage, ...] = (
    Stage.SIGNED,
    Stage.FULFILLING,
    Stage.UNDER_CONSTRUCTION,
    Stage.IN_PRODUCTION,
    Stage.EFFECTIVE,
)


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "Precondition required"


def new_project(body: ProjectCreate, *, principal: Principal) -> Project:
    """The row a create request describes. Dates stay as declared: a missing signing (or, for a
    project registered under construction, start) day means the day of registration wherever a
    day is needed (indicators), without inventing one that later rules would trip over."""
    values = rules.flatten(body.model_dump())
    values["is_manufacturing"] = bool(values["is_manufacturing"])
    values["stage"] = body.initial_stage
    return Project(**values, created_by=principal.subject)


def validate(values: dict[str, Any], *, parks: Sequence[str]) -> None:
    """Raises 422 naming every broken cross-field rule."""
    found = rules.problems(values, parks=parks)
    if found:
        raise InvalidInput.naming(found)


def master_data(project: Project) -> dict[str, Any]:
    """The ProjectMasterData fields of an event, from the row."""
    enterprise = None
    if project.enterprise_name is not None:
        enterprise = EnterpriseInfo(
            name=project.enterprise_name,
            uscc=project.enterprise_uscc,
            origin=project.enterprise_origin,
            origin_region=project.enterprise_origin_region,
        )
    names = set(ProjectUpdated.model_fields) - {"project_id", "enterprise", "changed", "updated_by"}
    return {
        "project_id": project.id,
        "enterprise": enterprise,
        **{name: getattr(project, name) for name in names},
    }


def add_registered(uow: UnitOfWork, project: Project) -> None:
    """Adds the row and its project.registered event to the transaction."""
    repository.add(uow.session, project)
    uow.publish(
        ProjectRegistered(
            **master_data(project), stage=project.stage, started_date=counted_start(project)
        )
    )


def counted_start(project: Project) -> dt.date | None:
    """The day a project counts as started from: its start day, declared or reached (the stage
    projection's), else, for a project registered under construction, its day of registration in
    Shanghai; None for a signing not started. The rule's one statement: the indicators'
    _started_within is its set-based SQL form, proven equal by a test that runs both
    (tests/unit/test_registry_indicators_recompute.py). project.registered carries it so that the
    milestone service dates the stage from the same day instead of guessing (a planned start is
    only the plan)."""
    if project.started_date is not None:
        return project.started_date
    if project.initial_stage is not Stage.UNDER_CONSTRUCTION:
        return None
    return project.created_at.astimezone(CAMPAIGN_TZ).date()


async def register(
    uow: UnitOfWork,
    *,
    body: ProjectCreate,
    principal: Principal,
    parks: Sequence[str],
) -> Project:
    """Adds a project to the ledger and emits project.registered in the same transaction."""
    project = new_project(body, principal=principal)
    validate(project.model_dump(), parks=parks)
    principal.ensure_can_write_park(project.park)
    add_registered(uow, project)
    return project


async def get(session: AsyncSession, *, project_id: str) -> Project:
    """Returns the project or raises 404."""
    project = await repository.get(session, project_id)
    if project is None:
        raise NotFound(refusals.NOT_FOUND(project_id=project_id))
    return project


def _cursor_problem() -> InvalidInput:
    return pagination.bad_cursor()


def decode_position(cursor: str | None, sort: ProjectSort) -> tuple[Any, str] | None:
    """The (sort value, id) a cursor points after; a cursor of another sort is refused."""
    if not cursor:
        return None
    position = decode_cursor(cursor)
    if position.get("s") != sort.value:
        made = position.get("s")
        raise InvalidInput(
            refusals.CURSOR_OF_OTHER_SORT(made=made, wanted=sort.value),
            errors=[FieldProblem("cursor", refusals.CURSOR_MADE_FOR(made=made))],
        )
    raw, last_id = position.get("v"), position.get("id")
    if not isinstance(last_id, str):
        raise _cursor_problem()
    name = sort.value.lstrip("-")
    try:
        if name == "created_at":
            return dt.datetime.fromisoformat(str(raw)), last_id
        if name == "planned_start_date":
            return dt.date.fromisoformat(str(raw)), last_id
        if name == "total_investment" and isinstance(raw, int):
            return raw, last_id
        if name == "name" and isinstance(raw, str):
            return raw, last_id
    except ValueError as exc:
        raise _cursor_problem() from exc
    raise _cursor_problem()


def encode_position(project: Project, sort: ProjectSort) -> str:
    value = repository.sort_value(project, sort)
    if isinstance(value, dt.date | dt.datetime):
        value = value.isoformat()
    return encode_cursor({"s": sort.value, "v": value, "id": project.id})


async def list_projects(
    session: AsyncSession,
    *,
    filters: ProjectFilter,
    sort: ProjectSort,
    limit: int,
    cursor: str | None,
) -> Page[ProjectPublic]:
    rows = await repository.list_page(
        session,
        filters=filters,
        sort=sort,
        after=decode_position(cursor, sort),
        limit=limit + 1,
    )
    next_cursor = encode_position(rows[limit - 1], sort) if len(rows) > limit else None
    return Page[ProjectPublic](
        items=[ProjectPublic.of(r) for r in rows[:limit]], next_cursor=next_cursor
    )


def _check_preconditions(project: Project, *, if_match: str | None, version: int | None) -> None:
    """If-Match → 412 when stale; a body `version` → 409 when stale; one of them is required."""
    if if_match is None and version is None:
        raise PreconditionRequired(
            refusals.VERSION_REQUIRED(),
            errors=[FieldProblem("header.If-Match", refusals.VERSION_REQUIRED_FIELD())],
        )
    check_versions(
        if_match=if_match, version=version, current=project.version, what=refusals.PROJECT
    )


def _event_field(column: str) -> str:
    return "enterprise" if column.startswith("enterprise_") else column


async def update(
    uow: UnitOfWork,
    *,
    project_id: str,
    body: ProjectUpdate,
    if_match: str | None,
    principal: Principal,
    parks: Sequence[str],
) -> Project:
    """Changes master data under optimistic concurrency and emits project.updated (full snapshot)."""
    project = await get(uow.session, project_id=project_id)
    _check_preconditions(project, if_match=if_match, version=body.version)
    principal.ensure_can_write_park(project.park)
    if project.cancelled_on is not None:
        raise Conflict(refusals.FROZEN(project_id=project_id))
    changes = rules.flatten(body.model_dump(exclude_unset=True, exclude={"version"}))
    nulls = [
        FieldProblem(f, refusals.NOT_NULL())
        for f in REQUIRED
        if f in changes and changes[f] is None
    ]
    if nulls:
        raise InvalidInput(refusals.CANNOT_CLEAR(), errors=nulls)
    merged = {**project.model_dump(), **changes}
    if "started_date" not in changes and project.initial_stage is not Stage.UNDER_CONSTRUCTION:
        # The stage projection's start day, not the caller's input: the rules judge what a caller
        # declares (a started project's master data stayed uneditable: 422 on started_date).
        merged["started_date"] = None
    validate(merged, parks=parks)
    if "park" in changes:
        principal.ensure_can_write_park(changes["park"])
    apply_changes(uow, project, changes, principal=principal)
    return project


def changed_columns(project: Project, changes: dict[str, Any]) -> list[str]:
    """The columns whose new value differs from the row's (a cleared 是否制造业 is 否)."""
    out = []
    for key, value in changes.items():
        if key == "is_manufacturing":
            value = bool(value)
        if getattr(project, key) != value:
            out.append(key)
    return out


def apply_changes(
    uow: UnitOfWork, project: Project, changes: dict[str, Any], *, principal: Principal
) -> list[str]:
    """Writes the changed columns (already validated), bumps the version and emits one
    project.updated naming what changed and who changed it; the changed columns, [] for none."""
    changed = changed_columns(project, changes)
    if not changed:
        return []
    for key in changed:
        setattr(project, key, changes[key])
    project.is_manufacturing = bool(project.is_manufacturing)
    project.version += 1
    project.updated_at = utcnow()
    uow.session.add(project)
    uow.publish(
        ProjectUpdated(
            **master_data(project),
            changed=sorted({_event_field(k) for k in changed}),
            updated_by=principal.subject,
        ),
    )
    return changed


async def cancel(
    uow: UnitOfWork,
    *,
    project_id: str,
    body: CancelRequest,
    if_match: str | None,
    principal: Principal,
    today: dt.date,
) -> Project:
    """终止/清退: freezes the project and emits project.cancelled; the milestone service then makes
    its stage CANCELLED (the registry's stage column follows from project.stage_changed)."""
    project = await get(uow.session, project_id=project_id)
    check_versions(
        if_match=if_match, version=body.version, current=project.version, what=refusals.PROJECT
    )
    principal.ensure_can_write_park(project.park)
    if body.reason_code is CancelReason.WITHDRAWN and body.effective_date is None:
        # 调出 is a decision taken on a day; guessing "today" would move past figures' denominators.
        raise InvalidInput(
            refusals.WITHDRAWN_NEEDS_DATE(),
            errors=[FieldProblem("effective_date", refusals.WITHDRAWN_DATE_FIELD())],
        )
    if project.cancelled_on is not None:
        raise Conflict(refusals.ALREADY_CANCELLED(project_id=project_id, day=project.cancelled_on))
    if project.stage in (Stage.EFFECTIVE, Stage.CANCELLED):
        raise Conflict(refusals.NO_LONGER_CANCELLABLE(project_id=project_id, stage=project.stage))
    project.cancelled_on = body.effective_date or today
    project.cancel_reason_code = body.reason_code
    project.cancel_reason = body.reason
    project.version += 1
    project.updated_at = utcnow()
    uow.session.add(project)
    uow.publish(
        ProjectCancelled(
            project_id=project.id,
            version=project.version,
            reason_code=body.reason_code,
            reason=body.reason,
            effective_date=project.cancelled_on,
            cancelled_by=principal.subject,
        ),
    )
    return project


def reached(project: Project, stage: Stage) -> bool:
    """True when the project has reached `stage` on the forward path (stage projection)."""
    if project.stage in (Stage.SUSPENDED, Stage.CANCELLED):
        column = REACHED_DATE_COLUMN.get(stage)
        return column is not None and getattr(project, column) is not None
    return FORWARD.index(project.stage) >= FORWARD.index(stage)


async def apply_stage_change(uow: UnitOfWork, data: ProjectStageChanged) -> None:
    """Keeps the stage projection current; the registry never decides a stage itself."""
    project = await repository.get(uow.session, data.project_id)
    if project is None:
        log.warning("stage change for unknown project %s ignored", data.project_id)
        return
    if fold_stage_change(project, data):
        project.updated_at = utcnow()
        uow.session.add(project)


@dataclass
class StageRow:
    """A project's stage columns alone (a rebuild folds these, not Project rows)."""

    id: str
    stage: Stage
    stage_version: int
    fulfilled_date: dt.date | None
    started_date: dt.date | None
    production_date: dt.date | None
    effective_date: dt.date | None


def fold_stage_change(project: Project | StageRow, data: ProjectStageChanged) -> bool:
    """Folds one stage change into the projection's columns; True when it changed them. A change
    not newer than the one applied (a late or redriven record) never moves the stage back; it
    may still give the day a stage was reached when the projection lacks it and stands at or
    past that stage (a STARTED redriven after PRODUCING gives the start day, not the stage)."""
    if not applies(
        ProjectStageChanged.TYPE, data.project_id, incoming=data.version, held=project.stage_version
    ):
        return _fill_reached_date(project, data)
    project.stage = data.to_stage
    if data.version is not None:
        project.stage_version = data.version
    column = REACHED_DATE_COLUMN.get(data.to_stage)
    # Only a milestone (or a correction) reaches a stage; a resume, or a correction back to a stage
    # already reached, keeps the day it was first reached.
    reaching = data.reason in ("MILESTONE", "CORRECTION")
    if column is not None and reaching and getattr(project, column) is None:
        setattr(project, column, data.effective_date)
    if data.reason == "CORRECTION" and data.to_stage in FORWARD:
        # A correction back to an earlier stage un-reaches the later ones.
        for later in FORWARD[FORWARD.index(data.to_stage) + 1 :]:
            setattr(project, REACHED_DATE_COLUMN[later], None)
    return True


def _fill_reached_date(project: Project | StageRow, late: ProjectStageChanged) -> bool:
    """Sets the day a late milestone reached its stage, if the projection has none and its
    stage, on the forward path, is that one or a later one; True when it did. A projection
    corrected back before that stage (or suspended, or cancelled: the stage they left is not
    known here) keeps what it has."""
    column = REACHED_DATE_COLUMN.get(late.to_stage)
    if (
        column is None
        or late.reason != "MILESTONE"
        or getattr(project, column) is not None
        or project.stage not in FORWARD
        or FORWARD.index(project.stage) < FORWARD.index(late.to_stage)
    ):
        return False
    setattr(project, column, late.effective_date)
    return True
