"""Every SQL statement of project summaries: one page of tracked projects, then the alerts,
reports and milestones of that page's projects only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, text, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import SEVERITY_ORDER, ChainTag, Severity, Stage
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.nodes.models import Milestone
from sanpi.milestone.progress.models import ProgressReport
from sanpi.milestone.rules.models import Alert, AlertState


@dataclass(frozen=True)
class SummaryFilter:
    """The list filters; None (or empty) means "any"."""

    parks: tuple[str, ...] = ()
    stage: Stage | None = None
    period: int | None = None
    chain_tag: ChainTag | None = None
    colour: Severity | None = None
    q: str | None = None
    ids: tuple[str, ...] = ()


def _firing(*severities: Severity) -> Any:
    return select(Alert.project_id).where(
        col(Alert.state) == AlertState.FIRING,
        col(Alert.severity).in_([str(s) for s in severities]),
        col(Alert.project_id).is_not(None),
    )


def colour_condition(colour: Severity) -> ColumnElement[bool]:
    """Projects whose worst firing alert is `colour` (green: none fires, or only green ones)."""
    worse = [s for s in Severity if SEVERITY_ORDER[s] > SEVERITY_ORDER[colour]]
    project = col(TrackedProject.project_id)
    if colour is Severity.GREEN:
        return project.not_in(_firing(*[s for s in Severity if s is not Severity.GREEN]))
    condition: ColumnElement[bool] = project.in_(_firing(colour))
    if worse:
        condition = and_(condition, project.not_in(_firing(*worse)))
    return condition


def period_condition(dialect: str, period: int) -> ColumnElement[bool]:
    """Listed in 期 `period`: the JSON list of periods holds it (per dialect: the column is JSON)."""
    if dialect == "postgresql":
        clause = text(
            "EXISTS (SELECT 1 FROM json_array_elements_text(tracked_project.periods) AS p(v) "
            "WHERE p.v = :listed_period)"
        ).bindparams(listed_period=str(period))
    else:
        clause = text(
            "EXISTS (SELECT 1 FROM json_each(tracked_project.periods) WHERE json_each.value = "
            ":listed_period)"
        ).bindparams(listed_period=period)
    return clause  # type: ignore[return-value]


def _conditions(f: SummaryFilter, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.parks:
        where.append(col(TrackedProject.park).in_(f.parks))
    if f.stage is not None:
        where.append(col(TrackedProject.stage) == f.stage)
    if f.chain_tag is not None:
        where.append(col(TrackedProject.chain_tag) == f.chain_tag)
    if f.ids:
        where.append(col(TrackedProject.project_id).in_(f.ids))
    if f.q:
        where.append(func.lower(col(TrackedProject.name)).contains(f.q.lower(), autoescape=True))
    if f.period is not None:
        where.append(period_condition(dialect, f.period))
    if f.colour is not None:
        where.append(colour_condition(f.colour))
    return where


async def page(
    session: AsyncSession, *, filters: SummaryFilter, after: tuple[str, str] | None, limit: int
) -> list[TrackedProject]:
    """At most `limit` tracked projects matching `filters`, by name then id, after `after`."""
    dialect = session.get_bind().dialect.name
    position: ColumnElement[bool] = true()
    if after is not None:
        name, project_id = after
        position = or_(
            col(TrackedProject.name) > name,
            and_(col(TrackedProject.name) == name, col(TrackedProject.project_id) > project_id),
        )
    stmt = (
        select(TrackedProject)
        .where(*_conditions(filters, dialect), position)
        .order_by(col(TrackedProject.name), col(TrackedProject.project_id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def firing_of(session: AsyncSession, ids: Sequence[str]) -> list[tuple[str, Severity]]:
    stmt = select(Alert.project_id, Alert.severity).where(
        col(Alert.project_id).in_(ids), col(Alert.state) == AlertState.FIRING
    )
    return [(str(p), Severity(s)) for p, s in (await session.exec(stmt)).all()]


async def latest_reports(session: AsyncSession, ids: Sequence[str]) -> list[ProgressReport]:
    """Each project's reports of its latest period end (a 下旬 and its month end together)."""
    latest = (
        select(ProgressReport.project_id, func.max(ProgressReport.period_end).label("last_end"))
        .where(col(ProgressReport.project_id).in_(ids))
        .group_by(col(ProgressReport.project_id))
        .subquery()
    )
    stmt = select(ProgressReport).join(
        latest,
        and_(
            col(ProgressReport.project_id) == latest.c.project_id,
            col(ProgressReport.period_end) == latest.c.last_end,
        ),
    )
    return list((await session.exec(stmt)).all())


async def reported_keys(
    session: AsyncSession, ids: Sequence[str], keys: Sequence[str]
) -> set[tuple[str, str]]:
    """(project, period key) of the reports among `keys` that the projects submitted."""
    stmt = select(ProgressReport.project_id, ProgressReport.period_key).where(
        col(ProgressReport.project_id).in_(ids), col(ProgressReport.period_key).in_(keys)
    )
    return {(str(p), str(k)) for p, k in (await session.exec(stmt)).all()}


async def open_milestones(session: AsyncSession, ids: Sequence[str]) -> list[Milestone]:
    """Milestones not achieved yet that have a date (forecast or baseline)."""
    stmt = select(Milestone).where(
        col(Milestone.project_id).in_(ids),
        col(Milestone.actual_date).is_(None),
        or_(col(Milestone.forecast_date).is_not(None), col(Milestone.baseline_date).is_not(None)),
    )
    return list((await session.exec(stmt)).all())
