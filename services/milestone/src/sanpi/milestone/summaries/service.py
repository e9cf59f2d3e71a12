"""Project summaries: a page of projects, each with its colour, last report, next milestone and
the 旬 report it owes, read in four queries whatever the page size."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import SEVERITY_ORDER, ReportPeriodKind, Severity, Stage
from sanpi.events.xun import last_completed
from sanpi.kit import pagination
from sanpi.kit.pagination import decode_cursor, encode_cursor
from sanpi.milestone.lifecycle.models import TrackedProject
from sanpi.milestone.nodes.models import Milestone
from sanpi.milestone.progress.models import ProgressReport
from sanpi.milestone.rules.evaluation import Deadlines
from sanpi.milestone.rules.lights import project_colour
from sanpi.milestone.summaries import repository
from sanpi.milestone.summaries.repository import SummaryFilter
from sanpi.milestone.summaries.schemas import LastReport, NextMilestone, ProjectSummary, ReportDue

# Stages after which no milestone is due any more.
FINISHED = frozenset({Stage.CANCELLED, Stage.EFFECTIVE})
# Stages in which a project owes 旬 reports.
REPORTING = frozenset(
    {Stage.SIGNED, Stage.FULFILLING, Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION}
)


def _after(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    position = decode_cursor(cursor)
    name, project_id = position.get("name"), position.get("id")
    if not isinstance(name, str) or not isinstance(project_id, str):
        raise pagination.bad_cursor()
    return name, project_id


def last_report(reports: list[ProgressReport]) -> LastReport | None:
    """Of the reports ending on the latest day, the 旬 one (a month ends with its 下旬)."""
    if not reports:
        return None
    chosen = max(reports, key=lambda r: (r.period_kind is ReportPeriodKind.XUN, r.updated_at))
    return LastReport(
        period_key=chosen.period_key,
        period_kind=chosen.period_kind,
        period_end=chosen.period_end,
        submitted_on=chosen.submitted_on,
        late=chosen.late,
        completed_investment_cum=chosen.completed_investment_cum,
    )


def next_milestone(open_ones: list[Milestone], as_of: dt.date) -> NextMilestone | None:
    dated: list[tuple[dt.date, Milestone]] = []
    for m in open_ones:
        day = m.forecast_date or m.baseline_date
        if day is not None:
            dated.append((day, m))
    if not dated:
        return None
    day, milestone = min(dated, key=lambda pair: pair[0])
    return NextMilestone(kind=milestone.kind, label=milestone.label, date=day, overdue=day < as_of)


def report_due(
    project: TrackedProject, reported: set[str], as_of: dt.date, deadlines: Deadlines
) -> ReportDue | None:
    """The 旬 report the project owes next: the last completed 旬's until it is in, then the
    current 旬's."""
    if project.stage not in REPORTING:
        return None
    completed = last_completed(as_of, ReportPeriodKind.XUN)
    owed = completed if completed.key not in reported else completed.next()
    deadline = deadlines.deadline(owed)
    return ReportDue(period_key=owed.key, deadline=deadline, overdue=deadline < as_of)


async def summaries(
    session: AsyncSession,
    *,
    filters: SummaryFilter,
    limit: int,
    cursor: str | None,
    as_of: dt.date,
    deadlines: Deadlines,
) -> tuple[list[ProjectSummary], str | None]:
    rows = await repository.page(session, filters=filters, after=_after(cursor), limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"name": rows[-1].name, "id": rows[-1].project_id})
    ids = [r.project_id for r in rows]
    if not ids:
        return [], None
    firing: dict[str, list[Severity]] = defaultdict(list)
    for project_id, severity in await repository.firing_of(session, ids):
        firing[project_id].append(severity)
    reports: dict[str, list[ProgressReport]] = defaultdict(list)
    for report in await repository.latest_reports(session, ids):
        reports[report.project_id].append(report)
    milestones: dict[str, list[Milestone]] = defaultdict(list)
    for milestone in await repository.open_milestones(session, ids):
        milestones[milestone.project_id].append(milestone)
    completed = last_completed(as_of, ReportPeriodKind.XUN)
    reported: dict[str, set[str]] = defaultdict(set)
    for project_id, key in await repository.reported_keys(session, ids, [completed.key]):
        reported[project_id].add(key)
    out = []
    for row in rows:
        severities = firing.get(row.project_id, [])
        counts: dict[Severity, int] = {}
        for severity in sorted(severities, key=SEVERITY_ORDER.__getitem__, reverse=True):
            counts[severity] = counts.get(severity, 0) + 1
        out.append(
            ProjectSummary(
                project_id=row.project_id,
                name=row.name,
                park=row.park,
                stage=row.stage,
                stage_since=row.stage_since,
                chain_tag=row.chain_tag,
                category=row.category,
                total_investment=row.total_investment,
                periods=list(row.periods or []),
                responsible_person=row.responsible_person,
                colour=project_colour(severities),
                firing=counts,
                last_report=last_report(reports.get(row.project_id, [])),
                next_milestone=next_milestone(milestones.get(row.project_id, []), as_of)
                if row.stage not in FINISHED
                else None,
                report_due=report_due(row, reported[row.project_id], as_of, deadlines),
            )
        )
    return out, next_cursor
