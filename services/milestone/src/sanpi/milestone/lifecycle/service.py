"""Lifecycle rules with I/O: the registry's projects tracked here, stage changes, stage_changed events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sanpi.events import (
    CloudEvent,
    MilestoneKind,
    ProjectCancelled,
    ProjectListed,
    ProjectMasterData,
    ProjectRegistered,
    ProjectStageChanged,
    ProjectUpdated,
    Stage,
)
from sanpi.kit import CAMPAIGN_TZ, Conflict, NotFound, Principal, Reading, UnitOfWork, utcnow
from sanpi.kit.projection import applies
from sanpi.milestone.lifecycle import repository
from sanpi.milestone.lifecycle.models import StageChange, TrackedProject
from sanpi.milestone.lifecycle.state_machine import (
    Cancel,
    Command,
    Decision,
    Evidence,
    IllegalTransition,
    Lifecycle,
    decide,
)
from sanpi.milestone.messages import UNKNOWN_PROJECT
from sanpi.milestone.timeline import service as timeline

# The master-data fields copied from the registry's snapshots (ProjectMasterData).
MASTER_FIELDS = (
    "name",
    "park",
    "total_investment",
    "contract_amount",
    "annual_plan_investment",
    "chain_tag",
    "category",
    "is_manufacturing",
    "responsible_person",
    "responsible_unit",
    "sponsor_leader",
    "signed_date",
    "planned_fulfill_date",
    "planned_start_date",
    "planned_completion_date",
    "planned_production_date",
    "planned_effective_date",
)


def event_day(event: CloudEvent) -> dt.date:
    """The campaign day an event happened on."""
    return event.time.astimezone(CAMPAIGN_TZ).date()


def _initial_since(data: ProjectRegistered, registered_on: dt.date) -> dt.date:
    # A project registered as signed has been SIGNED since its signing day; one registered
    # directly as started, since the day the registry counts it started (started_date: the
    # declared day, else its day of registration), when that is already past. The registry owns
    # that day; the planned start stands in only for an event written before it sent one.
    # Backdating lets an evaluation "as of" an earlier day see a project loaded from history (the
    # demo).
    if data.stage is Stage.SIGNED and data.signed_date and data.signed_date <= registered_on:
        return data.signed_date
    start = data.started_date or data.planned_start_date
    if data.stage is Stage.UNDER_CONSTRUCTION and start and start <= registered_on:
        return start
    return registered_on


# A tracked project's columns that follow the registry, as plain values: MASTER_FIELDS,
# registry_version and periods. The consumer folds the project it holds through one; a rebuild
# folds these alone (sanpi.milestone.rebuild), by the same rule.
Master = dict[str, Any]
MasterEvent = ProjectRegistered | ProjectUpdated | ProjectListed


def fold_master(held: Master | None, data: MasterEvent) -> Master | None:
    """The registry's master data of a project after one more of its events, from what is held
    (None: the project is not tracked); None when the event changes nothing. A registration
    starts a project not held (the first one wins: a second changes nothing); an update
    replaces the master fields of a held project when its version is newer than the one
    applied (a late, older or repeated snapshot changes nothing), keeping its periods; a
    listing adds its period to a held project's (a sorted set: any order folds the same, and
    no listing is ever withdrawn). A listing reads only `periods` of what is held, and gives
    back what it was given with those replaced, so a caller may hold only them."""
    if isinstance(data, ProjectRegistered):
        return None if held is not None else _snapshot(data, periods=[])
    if held is None:
        return None
    if isinstance(data, ProjectListed):
        periods: list[int] = held["periods"]
        if data.period in periods:
            return None
        return {**held, "periods": sorted([*periods, data.period])}
    if not applies(
        data.TYPE, data.project_id, incoming=data.version, held=held["registry_version"]
    ):
        return None
    return _snapshot(data, periods=held["periods"])


def _snapshot(data: ProjectMasterData, *, periods: list[int]) -> Master:
    master = {name: getattr(data, name) for name in MASTER_FIELDS}
    master["registry_version"] = data.version
    master["periods"] = list(periods)
    return master


def master_of(project: TrackedProject) -> Master:
    """The project's columns that follow the registry (fold_master's `held`)."""
    master = {name: getattr(project, name) for name in MASTER_FIELDS}
    master["registry_version"] = project.registry_version
    master["periods"] = list(project.periods)
    return master


async def track(uow: UnitOfWork, event: CloudEvent, data: ProjectRegistered) -> dt.date | None:
    """Starts tracking a newly registered project; returns the day its stage holds since, or
    None when it is already tracked."""
    held = await repository.get(uow, data.project_id)
    master = fold_master(None if held is None else master_of(held), data)
    if master is None:
        return None
    registered_on = event_day(event)
    since = _initial_since(data, registered_on)
    now = utcnow()
    # The columns a TrackedProject(...) built from the snapshot would hold, as plain values:
    # the repository inserts them without an ORM object (see insert_tracked).
    project: dict[str, Any] = master
    project.update(
        project_id=data.project_id,
        registered_on=registered_on,
        stage=data.stage,
        resume_to=None,
        stage_since=since,
        expected_resume_date=None,
        stage_version=0,
        updated_at=now,
    )
    change = {
        "project_id": data.project_id,
        "from_stage": None,
        "to_stage": data.stage,
        "effective_date": since,
        "reason": "REGISTERED",
        "milestone_kind": None,
        "changed_by": "registry",
        "note": None,
        "recorded_at": now,
    }
    repository.insert_tracked(uow, project, change)
    timeline.note(
        uow,
        project_id=data.project_id,
        event_type=event.type,
        event_id=event.id,
        by="registry",
        summary=f"登记入库 ({data.stage}), 总投资 {data.total_investment} 万元",
        data=data.model_dump(mode="json"),
    )
    return since


async def update(
    uow: UnitOfWork, event: CloudEvent, data: ProjectUpdated, by: str | None
) -> TrackedProject | None:
    """Applies a newer master-data snapshot; None when it is not newer than what is applied."""
    project = await repository.get(uow, data.project_id)
    master = None if project is None else fold_master(master_of(project), data)
    if project is None or master is None:
        return None
    for name, value in master.items():
        if getattr(project, name) != value:
            setattr(project, name, value)
    project.updated_at = utcnow()
    repository.save(uow, project)
    changed = getattr(data, "changed", [])
    timeline.note(
        uow,
        project_id=project.project_id,
        event_type=event.type,
        event_id=event.id,
        by=by or "registry",
        summary=f"主数据更新: {', '.join(changed) or '快照'}",
        data=data.model_dump(mode="json"),
    )
    return project


async def listed(uow: UnitOfWork, event: CloudEvent, data: ProjectListed) -> bool:
    """Remembers the period (期) a project was listed in; False when unknown or already known."""
    # Only its periods are read (repository.periods): a listing folds nothing else.
    periods = await repository.periods(uow, data.project_id)
    master = fold_master(None if periods is None else {"periods": periods}, data)
    if master is None:
        return False
    repository.set_periods(uow, data.project_id, master["periods"])
    timeline.note(
        uow,
        project_id=data.project_id,
        event_type=event.type,
        event_id=event.id,
        by=data.listed_by or "registry",
        summary=f"列入第 {data.period} 期 {data.batch} 清单",
        data=data.model_dump(mode="json"),
    )
    return True


async def cancelled(uow: UnitOfWork, data: ProjectCancelled) -> TrackedProject | None:
    """Makes a project CANCELLED (terminal); None when unknown or the cancel changes nothing.
    Needs no version check: nothing comes after a cancellation in the registry, and the state
    machine makes a cancel of a cancelled project a no-op. Its version is not the master
    data's either: an update that arrives after it still carries the latest master data."""
    project = await repository.get(uow, data.project_id)
    if project is None:
        return None
    try:
        decision = decide(lifecycle_of(project), Cancel())
    except IllegalTransition:
        return None  # an EFFECTIVE project stays EFFECTIVE; the registry's record is its own
    if not decision.moved:
        return None
    apply(
        uow,
        project,
        decision,
        on=data.effective_date,
        by=data.cancelled_by,
        note=f"{data.reason_code}: {data.reason}",
    )
    return project


def unknown(project_id: str) -> NotFound:
    """The 404 of a project the milestone service does not track (yet)."""
    return NotFound(UNKNOWN_PROJECT(project_id=project_id))


async def get(tx: Reading, project_id: str) -> TrackedProject:
    """The tracked project, or 404 when the registry's event has not reached this service."""
    project = await repository.get(tx, project_id)
    if project is None:
        raise unknown(project_id)
    return project


async def many(tx: Reading, project_ids: Sequence[str]) -> list[TrackedProject]:
    """The tracked projects among `project_ids` (unknown ones are left out)."""
    return await repository.many(tx, project_ids)


async def get_writable(tx: Reading, project_id: str, principal: Principal) -> TrackedProject:
    """The tracked project if the caller may change it: 404 when unknown, 403 for another park."""
    project = await get(tx, project_id)
    principal.ensure_can_write_park(project.park)
    return project


def lifecycle_of(project: TrackedProject) -> Lifecycle:
    return Lifecycle(project.stage, project.resume_to)


def command(project: TrackedProject, cmd: Command) -> Decision:
    """The state machine's decision on a command, or 409 with its reason."""
    try:
        return decide(lifecycle_of(project), cmd)
    except IllegalTransition as exc:
        raise Conflict(exc.message or str(exc), stage=str(project.stage)) from exc


def apply(
    uow: UnitOfWork,
    project: TrackedProject,
    decision: Decision,
    *,
    on: dt.date,
    by: str,
    kind: MilestoneKind | None = None,
    evidence: Sequence[Evidence] = (),
    note: str | None = None,
    expected_resume_date: dt.date | None = None,
) -> None:
    """Moves the project as decided, records the change and emits stage_changed."""
    if decision.reason is None:
        return
    previous = project.stage
    project.stage_version += 1
    project.stage = decision.after.stage
    project.resume_to = decision.after.resume_to
    project.stage_since = on
    project.expected_resume_date = (
        expected_resume_date if project.stage is Stage.SUSPENDED else None
    )
    project.updated_at = utcnow()
    repository.save(uow, project)
    repository.save(
        uow,
        StageChange(
            project_id=project.project_id,
            from_stage=previous,
            to_stage=project.stage,
            effective_date=on,
            reason=decision.reason,
            milestone_kind=kind,
            changed_by=by,
            note=note,
        ),
    )
    timeline.publish(
        uow,
        ProjectStageChanged(
            project_id=project.project_id,
            from_stage=previous,
            to_stage=project.stage,
            effective_date=on,
            reason=decision.reason,
            milestone_kind=kind,
            evidence=[e.uri for e in evidence],
            changed_by=by,
            note=note,
            version=project.stage_version,
        ),
        project_id=project.project_id,
        by=by,
        summary=f"阶段 {previous} → {project.stage} ({decision.reason})"
        + (f": {note}" if note else ""),
    )


async def history(tx: Reading, project_ids: Sequence[str]) -> list[StageChange]:
    return await repository.history(tx, project_ids)
