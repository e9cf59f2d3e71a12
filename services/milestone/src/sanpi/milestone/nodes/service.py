"""Milestones with I/O: the plan from the registry's dates, achievements, forecasts (replanning),
and the named baselines of approved plan changes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sanpi.events import (
    EvidencePhoto,
    MilestoneAchieved,
    MilestoneKind,
    MilestoneReplanned,
    ProjectMasterData,
    Stage,
)
from sanpi.kit import Conflict, FieldProblem, InvalidInput, Principal, Reading, UnitOfWork, utcnow
from sanpi.kit.messages import FieldMessage
from sanpi.milestone import batch_rows
from sanpi.milestone.evidence import service as evidence_files
from sanpi.milestone.evidence.models import EvidenceFile
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.state_machine import (
    Achieve,
    Evidence,
    IllegalTransition,
    Lifecycle,
    decide,
)
from sanpi.milestone.messages import UNKNOWN_PROJECT
from sanpi.milestone.nodes import messages as refusals
from sanpi.milestone.nodes import repository
from sanpi.milestone.nodes.messages import ALREADY_ACHIEVED
from sanpi.milestone.nodes.models import Milestone, MilestoneBaseline, MilestoneStatus
from sanpi.milestone.nodes.schemas import (
    BaselineCreate,
    ForecastCreate,
    MilestoneBatchItem,
    MilestoneCreate,
)
from sanpi.milestone.progress.messages import AFTER_TODAY
from sanpi.milestone.timeline import service as timeline

# Which planned date of the registry is the baseline of which milestone (倒排工期).
PLANNED_DATES: dict[MilestoneKind, str] = {
    MilestoneKind.SIGNED: "signed_date",
    MilestoneKind.FULFILLED: "planned_fulfill_date",
    MilestoneKind.STARTED: "planned_start_date",
    MilestoneKind.COMPLETED: "planned_completion_date",
    MilestoneKind.IN_PRODUCTION: "planned_production_date",
    MilestoneKind.EFFECTIVE: "planned_effective_date",
}


async def _row(tx: Reading, project_id: str, kind: MilestoneKind, label: str) -> Milestone:
    row = await repository.get(tx, project_id, kind, label)
    return row or Milestone(project_id=project_id, kind=kind, label=label)


async def plan_from_registry(uow: UnitOfWork, project: ProjectMasterData, *, by: str) -> None:
    """Builds or follows the plan from the registry's planned dates (its latest snapshot of
    the project).

    The first date known for a milestone is its baseline and never moves; a later different
    date from the registry is a new forecast (milestone.replanned). The signing date is also
    the SIGNED milestone's actual date."""
    # One query for the project's milestones, not one per planned date (a replay spent a fifth
    # of its time in these lookups).
    known = {
        row.kind: row
        for row in await repository.of_project(uow, project.project_id)
        if row.label == ""
    }
    for kind, attribute in PLANNED_DATES.items():
        date: dt.date | None = getattr(project, attribute)
        if date is None:
            continue
        row = known.get(kind)
        if row is None:
            repository.insert(uow, _first_plan(project.project_id, kind, date, by=by))
            continue
        if kind is MilestoneKind.SIGNED and row.actual_date is None:
            row.actual_date = date
            row.status = MilestoneStatus.ACHIEVED
            row.recorded_by = by
            row.recorded_at = utcnow()
        if row.baseline_date is None:
            row.baseline_date = date
        elif date != (row.forecast_date or row.baseline_date) and row.actual_date is None:
            _forecast(uow, row, date, by=by, reason="registry planned date changed")
        row.updated_at = utcnow()
        repository.save(uow, row)


def _first_plan(project_id: str, kind: MilestoneKind, date: dt.date, *, by: str) -> dict[str, Any]:
    """The columns of a milestone the registry plans first: `date` is its baseline (and the
    signing day is achieved on it). Plain values for the repository's INSERT: building a
    Milestone object cost 0.12 CPU-ms (its `evidence` list default alone ~0.05 ms)."""
    now = utcnow()
    signed = kind is MilestoneKind.SIGNED
    return {
        "id": str(uuid.uuid4()),
        "project_id": project_id,
        "kind": kind,
        "label": "",
        "baseline_date": date,
        "forecast_date": None,
        "actual_date": date if signed else None,
        "evidence": [],
        "status": MilestoneStatus.ACHIEVED if signed else MilestoneStatus.PENDING,
        "recorded_by": by if signed else None,
        "recorded_at": now if signed else None,
        "updated_at": now,
    }


def _forecast(
    uow: UnitOfWork, row: Milestone, date: dt.date, *, by: str, reason: str | None
) -> None:
    previous = row.forecast_date
    row.forecast_date = date
    row.status = MilestoneStatus.PENDING
    timeline.publish(
        uow,
        MilestoneReplanned(
            project_id=row.project_id,
            kind=row.kind,
            baseline_date=row.baseline_date,
            previous_forecast_date=previous,
            forecast_date=date,
            reason=reason,
            replanned_by=by,
        ),
        project_id=row.project_id,
        by=by,
        summary=f"{row.kind}{'/' + row.label if row.label else ''} 计划调整为 {date}"
        + (f" (原 {previous or row.baseline_date})" if previous or row.baseline_date else ""),
    )


# A project enters the investment statistics (入库纳统) once it has started: not before.
_NOT_STARTED = frozenset({Stage.SIGNED, Stage.FULFILLING})


def _statistics_problems(state: Lifecycle, since: dt.date, date: dt.date) -> list[FieldMessage]:
    """Why an IN_STATISTICS milestone cannot be recorded (R08 watches it): before the start."""
    before = state.resume_to if state.stage is Stage.SUSPENDED else state.stage
    if before in _NOT_STARTED:
        return [FieldMessage("kind", refusals.STATISTICS_BEFORE_START(stage=before))]
    if state.stage is Stage.UNDER_CONSTRUCTION and date < since:
        return [FieldMessage("date", refusals.BEFORE_START(day=since))]
    return []


def problems_of(
    state: Lifecycle, since: dt.date, body: MilestoneCreate, today: dt.date
) -> list[FieldMessage]:
    """What is wrong with a milestone of a project in `state` since `since`, whatever else is
    stored (pure): a date or a photo after today, 入库纳统 before the start."""
    problems = []
    if body.date > today:
        problems.append(FieldMessage("date", AFTER_TODAY(today=today)))
    if body.kind is MilestoneKind.IN_STATISTICS:
        problems.extend(_statistics_problems(state, since, body.date))
    for i, item in enumerate(body.evidence_items()):
        if item.taken_at is not None and item.taken_at > today:
            problems.append(FieldMessage(f"evidence.{i}.taken_at", AFTER_TODAY(today=today)))
    return problems


def _dated(evidence: list[Evidence], photos: dict[int, EvidenceFile]) -> list[Evidence]:
    """The evidence with each cited photo dated by its capture day unless taken_at says
    otherwise."""
    return [
        Evidence(item.uri, item.taken_at or photos[i].captured_on) if i in photos else item
        for i, item in enumerate(evidence)
    ]


@dataclass(frozen=True)
class Recorded:
    """A recorded milestone, and the warnings about the photos it cites."""

    row: Milestone
    warnings: list[evidence_files.PhotoWarning]


def _stored_evidence(item: Evidence, photo: EvidenceFile | None) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "uri": item.uri,
        "taken_at": item.taken_at.isoformat() if item.taken_at else None,
    }
    if photo is not None:
        stored.update(
            evidence_id=photo.id,
            sha256=photo.sha256,
            captured_on=photo.captured_on.isoformat() if photo.captured_on else None,
        )
    return stored


async def record(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    body: MilestoneCreate,
    principal: Principal,
    today: dt.date,
) -> Recorded:
    """Records an achieved milestone; a stage-defining one moves the stage (409 if illegal).
    An uploaded photo it cites (/v1/evidence/{id}) of the same project is dated by its EXIF
    capture day unless taken_at says otherwise; one taken on another day than the milestone,
    or on no known day, is accepted with a warning and kept as a finding for R16."""
    principal.ensure_can_write_park(project.park)
    problems = problems_of(lifecycle.lifecycle_of(project), project.stage_since, body, today)
    if problems:
        raise InvalidInput(
            refusals.CANNOT_HAVE_HAPPENED(),
            errors=[FieldProblem(p.field, p.message) for p in problems],
        )
    evidence = body.evidence_items()
    photos = await evidence_files.cited_photos(uow.session, project.project_id, evidence)
    evidence = _dated(evidence, photos)
    decision = lifecycle.command(project, Achieve(body.kind, evidence))
    row = await _row(uow, project.project_id, body.kind, body.label)
    if row.actual_date is not None and not decision.moved:
        raise Conflict(
            ALREADY_ACHIEVED(kind=body.kind, date=row.actual_date),
            stage=str(project.stage),
            kind=str(body.kind),
        )
    row.actual_date = body.date
    row.evidence = [_stored_evidence(item, photos.get(i)) for i, item in enumerate(evidence)]
    row.status = MilestoneStatus.ACHIEVED
    row.recorded_by = principal.subject
    row.recorded_at = row.updated_at = utcnow()
    repository.save(uow, row)
    warnings = evidence_files.photo_warnings(body.date, photos)
    await evidence_files.record_findings(
        uow,
        project_id=project.project_id,
        milestone_id=row.id,
        kind=str(row.kind),
        label=row.label,
        date=body.date,
        warnings=warnings,
    )
    summary = f"{row.kind}{'/' + row.label if row.label else ''} 达成 {body.date}"
    if photos:
        summary += f", 照片 {len(photos)} 张"
        if warnings:
            summary += f" ({len(warnings)} 张未能证明当日拍摄)"
    timeline.publish(
        uow,
        MilestoneAchieved(
            project_id=project.project_id,
            milestone_id=row.id,
            kind=row.kind,
            date=body.date,
            evidence=[e.uri for e in evidence],
            recorded_by=principal.subject,
            photos=[
                EvidencePhoto(
                    evidence_id=photo.id,
                    uri=evidence[i].uri,
                    sha256=photo.sha256,
                    captured_on=photo.captured_on,
                    date_matches=photo.captured_on == body.date,
                )
                for i, photo in sorted(photos.items())
            ],
        ),
        project_id=project.project_id,
        by=principal.subject,
        summary=summary,
    )
    lifecycle.apply(
        uow,
        project,
        decision,
        on=body.date,
        by=principal.subject,
        kind=body.kind,
        evidence=evidence,
    )
    return Recorded(row, warnings)


async def replan(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    kind: MilestoneKind,
    body: ForecastCreate,
    principal: Principal,
) -> Milestone:
    """Moves a milestone's forecast date and emits milestone.replanned (409 once achieved)."""
    principal.ensure_can_write_park(project.park)
    row = await _replannable(uow, project.project_id, kind, body.label, label_field="label")
    if body.forecast_date == (row.forecast_date or row.baseline_date):
        return row
    if _move(uow, row, body.forecast_date, by=principal.subject, reason=body.reason):
        timeline.note(
            uow,
            project_id=project.project_id,
            event_type="milestone.planned",
            by=principal.subject,
            summary=f"{kind} 计划 {body.forecast_date}",
            data={"kind": kind, "label": body.label, "baseline_date": str(body.forecast_date)},
        )
    return row


async def _replannable(
    uow: UnitOfWork, project_id: str, kind: MilestoneKind, label: str, *, label_field: str
) -> Milestone:
    """The milestone a replan or a baseline change names: a CUSTOM one needs its label (422
    naming `label_field`), an achieved one cannot move (409)."""
    if kind is MilestoneKind.CUSTOM and not label:
        raise InvalidInput(
            refusals.CUSTOM_NEEDS_LABEL(),
            errors=[FieldProblem(label_field, refusals.LABEL_REQUIRED())],
        )
    row = await _row(uow, project_id, kind, label)
    if row.actual_date is not None:
        raise Conflict(
            refusals.ACHIEVED_NOT_REPLANNABLE(node=node_name(kind, label), date=row.actual_date)
        )
    return row


def _move(uow: UnitOfWork, row: Milestone, date: dt.date, *, by: str, reason: str | None) -> bool:
    """Plans the milestone on `date` and saves it; True when this is its first plan (the date
    becomes its baseline), else a new forecast (milestone.replanned) if the date differs."""
    first = row.baseline_date is None and row.forecast_date is None
    if first:
        row.baseline_date = date
    elif date != (row.forecast_date or row.baseline_date):
        _forecast(uow, row, date, by=by, reason=reason)
    row.updated_at = utcnow()
    repository.save(uow, row)
    return first


async def plan(tx: Reading, project_id: str) -> list[Milestone]:
    return await repository.for_projects(tx, [project_id])


# --- named baselines ------------------------------------------------------------------------------

# The name the original plan goes by in a comparison; a named baseline may not take it.
ORIGINAL = "原计划"


def node_name(kind: MilestoneKind, label: str) -> str:
    return f"{kind}:{label}" if label else str(kind)


async def approve_baseline(
    uow: UnitOfWork,
    *,
    project: TrackedProject,
    body: BaselineCreate,
    principal: Principal,
    effective_on: dt.date,
) -> MilestoneBaseline:
    """An approved change of the plan: each named milestone gets its new date (a forecast and
    milestone.replanned, the original baseline staying), and the whole plan right after it is
    kept under the change's name, with who approved it and why."""
    principal.ensure_can_write_park(project.park)
    if body.name == ORIGINAL:
        raise InvalidInput(
            refusals.ORIGINAL_NAME(name=ORIGINAL),
            errors=[FieldProblem("name", refusals.ORIGINAL_NAME_FIELD(name=ORIGINAL))],
        )
    if any(b.name == body.name for b in await repository.baselines_of(uow, project.project_id)):
        raise Conflict(refusals.BASELINE_EXISTS(name=body.name))
    reason = f"{body.name}: {body.reason}"
    for n, item in enumerate(body.dates):
        row = await _replannable(
            uow, project.project_id, item.kind, item.label, label_field=f"dates.{n}.label"
        )
        _move(uow, row, item.date, by=principal.subject, reason=reason)
    plan_after = await repository.for_projects(uow, [project.project_id])
    baseline = MilestoneBaseline(
        project_id=project.project_id,
        name=body.name,
        reason=body.reason,
        approved_by=principal.subject,
        effective_on=effective_on,
        dates=[
            {"kind": str(m.kind), "label": m.label, "date": str(m.forecast_date or m.baseline_date)}
            for m in plan_after
            if (m.forecast_date or m.baseline_date) is not None
        ],
    )
    repository.add_baseline(uow, baseline)
    timeline.note(
        uow,
        project_id=project.project_id,
        event_type="milestone.baseline_approved",
        by=principal.subject,
        summary=f"计划调整「{body.name}」获批: {body.reason}",
        data={
            "name": body.name,
            "reason": body.reason,
            "dates": {node_name(i.kind, i.label): str(i.date) for i in body.dates},
        },
    )
    return baseline


@dataclass(frozen=True)
class Baselines:
    """The original plan, the named baselines, and the milestones as they stand."""

    named: list[MilestoneBaseline]
    plan: list[Milestone]


async def baselines(tx: Reading, project_id: str) -> Baselines:
    return Baselines(
        await repository.baselines_of(tx, project_id),
        await repository.for_projects(tx, [project_id]),
    )


# --- batches --------------------------------------------------------------------------------------

MilestoneRow = batch_rows.BatchRow[MilestoneBatchItem]
MilestoneStatusInBatch = Literal["accepted", "duplicate", "refused"]


@dataclass
class MilestoneOutcome:
    """A milestone row's outcome: the row as recorded (the stored one for a duplicate), the
    project's stage after it, the photo warnings, or why it is refused."""

    index: int
    project_id: str | None
    status: MilestoneStatusInBatch
    body: MilestoneBatchItem | None = None
    row: Milestone | None = None
    stage: Stage | None = None
    warnings: list[evidence_files.PhotoWarning] = field(default_factory=list)
    problems: list[FieldMessage] = field(default_factory=list)

    def refuse(self, *problems: FieldMessage) -> MilestoneOutcome:
        self.status, self.row, self.stage, self.problems = "refused", None, None, list(problems)
        return self


def read_rows(raw: Sequence[Any]) -> list[MilestoneRow]:
    """Each row validated alone (the single milestone's model plus project_id)."""
    return batch_rows.read_rows(raw, MilestoneBatchItem)


async def check_batch(
    uow: UnitOfWork, rows: Sequence[MilestoneRow], *, principal: Principal, today: dt.date
) -> list[MilestoneOutcome]:
    """Checks every row as record() checks one, against the database and the rows before it (a
    project's stage as the batch's earlier milestones move it); writes nothing (write_batch
    does). A milestone already achieved on the row's date is a duplicate (a resent batch); on
    another date, or the same milestone twice in the batch, it is refused."""
    ids = sorted({r.body.project_id for r in rows if r.body is not None})
    projects = {p.project_id: p for p in await lifecycle.many(uow, ids)} if ids else {}
    # The stage of each project with an accepted row, and since when, as the batch moves it.
    moved: dict[str, tuple[Lifecycle, dt.date]] = {}
    seen: dict[tuple[str, MilestoneKind, str], int] = {}
    outcomes = []
    for r in rows:
        outcome = MilestoneOutcome(r.index, r.project_id, "accepted", r.body)
        outcomes.append(outcome)
        body = r.body
        if body is None:
            outcome.refuse(*r.problems)
            continue
        project = projects.get(body.project_id)
        if project is None:
            outcome.refuse(FieldMessage("project_id", UNKNOWN_PROJECT(project_id=body.project_id)))
            continue
        if not principal.can_write_park(project.park):
            outcome.refuse(FieldMessage("project_id", principal.park_refused(project.park)))
            continue
        state, since = moved.get(project.project_id) or (
            lifecycle.lifecycle_of(project),
            project.stage_since,
        )
        problems = problems_of(state, since, body, today)
        key = (project.project_id, body.kind, body.label)
        if key in seen:
            other = seen[key] + 1
            problems.append(
                FieldMessage("kind", refusals.SAME_IN_BATCH(other=other, kind=body.kind))
            )
        photos, cited = await evidence_files.photos_of(
            uow.session, project.project_id, body.evidence_items()
        )
        problems.extend(cited)
        if problems:
            outcome.refuse(*problems)
            continue
        stored = await repository.get(uow, project.project_id, body.kind, body.label)
        if stored is not None and stored.actual_date == body.date:
            # Recorded already on that day (a resent batch), whatever it moved then.
            outcome.status, outcome.row, outcome.stage = "duplicate", stored, state.stage
            seen[key] = r.index
            continue
        try:
            decision = decide(state, Achieve(body.kind, _dated(body.evidence_items(), photos)))
        except IllegalTransition as exc:
            said = exc.message or refusals.NOT_RECORDED(reason=str(exc))
            outcome.refuse(FieldMessage("kind", said))
            continue
        if stored is not None and stored.actual_date is not None and not decision.moved:
            achieved = refusals.ALREADY_ACHIEVED(kind=body.kind, date=stored.actual_date)
            outcome.refuse(FieldMessage("date", achieved))
            continue
        seen[key] = r.index
        if decision.moved:
            moved[project.project_id] = (decision.after, body.date)
    return outcomes


async def write_batch(
    uow: UnitOfWork,
    outcomes: Sequence[MilestoneOutcome],
    *,
    principal: Principal,
    today: dt.date,
) -> None:
    """Records the milestones check_batch accepted, in their order, as record() records one
    (which checks them again, against the same state check_batch followed)."""
    for outcome in outcomes:
        if outcome.status != "accepted" or outcome.body is None:
            continue
        project = await lifecycle.get(uow, outcome.body.project_id)
        recorded = await record(
            uow, project=project, body=outcome.body, principal=principal, today=today
        )
        outcome.row, outcome.stage, outcome.warnings = (
            recorded.row,
            project.stage,
            recorded.warnings,
        )
