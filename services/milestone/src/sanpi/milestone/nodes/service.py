"""Milestones with I/O: the plan from the registry's dates, achievements, forecasts (replanning),
and the named baselines of approved plan changes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sanpi.events import (
    EvidencePhoto,
    MilestoneAchieved,
    MilestoneKind,
    MilestoneReplanned,
    ProjectMasterData,
    Stage,
)
from sanpi.kit import Conflict, FieldProblem, InvalidInput, Principal, Reading, UnitOfWork, utcnow
from sanpi.milestone.evidence import service as evidence_files
from sanpi.milestone.evidence.models import EvidenceFile
from sanpi.milestone.lifecycle import service as lifecycle
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.lifecycle.state_machine import Achieve, Evidence
from sanpi.milestone.nodes import repository
from sanpi.milestone.nodes.models import Milestone, MilestoneBaseline, MilestoneStatus
from sanpi.milestone.nodes.schemas import BaselineCreate, ForecastCreate, MilestoneCreate
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


def _statistics_problems(project: TrackedProject, date: dt.date) -> list[FieldProblem]:
    """Why an IN_STATISTICS milestone cannot be recorded (R08 watches it): before the start."""
    before = project.resume_to if project.stage is Stage.SUSPENDED else project.stage
    if before in _NOT_STARTED:
        return [
            FieldProblem(
                "kind",
                f"入库纳统只能在开工后登记, 项目尚未开工 ({before}): "
                "IN_STATISTICS needs a started project",
            )
        ]
    if project.stage is Stage.UNDER_CONSTRUCTION and date < project.stage_since:
        return [
            FieldProblem(
                "date",
                f"早于开工日期 {project.stage_since}: is before the start ({project.stage_since})",
            )
        ]
    return []


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
    problems = []
    if body.date > today:
        problems.append(FieldProblem("date", f"is after today ({today})"))
    if body.kind is MilestoneKind.IN_STATISTICS:
        problems.extend(_statistics_problems(project, body.date))
    evidence = body.evidence_items()
    for i, item in enumerate(evidence):
        if item.taken_at is not None and item.taken_at > today:
            problems.append(FieldProblem(f"evidence.{i}.taken_at", f"is after today ({today})"))
    if problems:
        raise InvalidInput("the milestone cannot have happened yet", errors=problems)
    photos = await evidence_files.cited_photos(uow.session, project.project_id, evidence)
    evidence = [
        Evidence(item.uri, item.taken_at or photos[i].captured_on) if i in photos else item
        for i, item in enumerate(evidence)
    ]
    decision = lifecycle.command(project, Achieve(body.kind, evidence))
    row = await _row(uow, project.project_id, body.kind, body.label)
    if row.actual_date is not None and not decision.moved:
        raise Conflict(
            f"{body.kind} was already achieved on {row.actual_date}",
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
    if kind is MilestoneKind.CUSTOM and not body.label:
        raise InvalidInput(
            "a CUSTOM milestone is named by its label",
            errors=[FieldProblem("label", "a CUSTOM milestone needs a label")],
        )
    row = await _row(uow, project.project_id, kind, body.label)
    if row.actual_date is not None:
        raise Conflict(f"{kind} was achieved on {row.actual_date}; it cannot be replanned")
    if body.forecast_date == (row.forecast_date or row.baseline_date):
        return row
    if row.baseline_date is None and row.forecast_date is None:
        # A milestone first planned here: that date is its baseline.
        row.baseline_date = body.forecast_date
        timeline.note(
            uow,
            project_id=project.project_id,
            event_type="milestone.planned",
            by=principal.subject,
            summary=f"{kind} 计划 {body.forecast_date}",
            data={"kind": kind, "label": body.label, "baseline_date": str(body.forecast_date)},
        )
    else:
        _forecast(uow, row, body.forecast_date, by=principal.subject, reason=body.reason)
    row.updated_at = utcnow()
    repository.save(uow, row)
    return row


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
            f"{ORIGINAL} names the original plan",
            errors=[FieldProblem("name", f"{ORIGINAL} is the original plan's name")],
        )
    if any(b.name == body.name for b in await repository.baselines_of(uow, project.project_id)):
        raise Conflict(f"the project already has a baseline named {body.name}")
    reason = f"{body.name}: {body.reason}"
    for n, item in enumerate(body.dates):
        if item.kind is MilestoneKind.CUSTOM and not item.label:
            raise InvalidInput(
                "a CUSTOM milestone is named by its label",
                errors=[FieldProblem(f"dates.{n}.label", "a CUSTOM milestone needs a label")],
            )
        row = await _row(uow, project.project_id, item.kind, item.label)
        if row.actual_date is not None:
            raise Conflict(
                f"{node_name(item.kind, item.label)} was achieved on {row.actual_date}; "
                "it cannot be replanned"
            )
        if row.baseline_date is None and row.forecast_date is None:
            row.baseline_date = item.date  # first planned by this change: its original date
        elif item.date != (row.forecast_date or row.baseline_date):
            _forecast(uow, row, item.date, by=principal.subject, reason=reason)
        row.updated_at = utcnow()
        repository.save(uow, row)
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
