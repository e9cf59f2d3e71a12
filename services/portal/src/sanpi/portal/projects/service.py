"""What the project pages show, gathered from the services as the visitor: the list with colours
and deadlines, and one project's master data, milestones, reports, plan and alerts."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sanpi.events import ReportPeriodKind
from sanpi.events.xun import month_end, parse_period, time_progress
from sanpi.portal import i18n
from sanpi.portal.alerts.service import in_language
from sanpi.portal.i18n import _
from sanpi.portal.labels import BATCHES, MILESTONES, RULES, SEVERITIES, STAGES, label
from sanpi.portal.projects.schemas import ListFilters
from sanpi.portal.upstream import Apis, call

# A search finds at most this many projects by name, enterprise or 项目代码 (the registry's
# search), which the list then pages through with its other filters.
SEARCH_LIMIT = 200


@dataclass
class ProjectsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    notice: str | None = None
    as_of: str | None = None


async def my_projects(
    apis: Apis, *, filters: ListFilters, parks: list[str] | None, page_size: int
) -> ProjectsPage:
    """A page of the visitor's projects (in `parks`; None: every park), filters applied."""
    chosen = [filters.park] if filters.park else parks
    notice = None
    ids: list[str] | None = None
    if filters.q:
        found = await call(
            apis.registry.list_projects,
            q=filters.q,
            park=filters.park,
            limit=SEARCH_LIMIT,
        )
        ids = [p["id"] for p in found.get("items", []) if chosen is None or p.get("park") in chosen]
        if found.get("next_cursor"):
            notice = _(
                "More than %(n)s projects match the search; only the first are listed. "
                "Narrow the search.",
                n=SEARCH_LIMIT,
            )
        if not ids:
            return ProjectsPage([], None, notice)
    page = await call(
        apis.milestone.project_summaries,
        park=chosen,
        stage=filters.stage,
        period=filters.period,
        chain_tag=filters.chain,
        colour=filters.colour,
        ids=ids,
        limit=page_size,
        cursor=filters.cursor,
    )
    return ProjectsPage(
        list(page.get("items", [])), page.get("next_cursor"), notice, page.get("as_of")
    )


def next_deadline(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The earlier of the next milestone and the 旬 report owed, as the list shows it."""
    options = []
    milestone = summary.get("next_milestone")
    if milestone:
        options.append(
            {
                "date": dt.date.fromisoformat(milestone["date"]),
                "what": "milestone",
                "kind": milestone["kind"],
                "label": milestone.get("label") or "",
                "overdue": milestone["overdue"],
            }
        )
    report = summary.get("report_due")
    if report:
        options.append(
            {
                "date": dt.date.fromisoformat(report["deadline"]),
                "what": "report",
                "period_key": report["period_key"],
                "overdue": report["overdue"],
            }
        )
    return min(options, key=lambda o: o["date"]) if options else None


async def evaluation_day(apis: Apis) -> dt.date | None:
    """The day the milestone service evaluates its rules for (the pinned day in a demo)."""
    page = await call(apis.milestone.project_summaries, limit=1)
    as_of = page.get("as_of")
    return dt.date.fromisoformat(as_of) if as_of else None


# --- one project -----------------------------------------------------------------------------


PROJECT_ISSUES = 20


@dataclass
class Detail:
    project: dict[str, Any]
    listings: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    firing: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    stage: str
    # Slip forecasts by target (STARTED, IN_PRODUCTION, ANNUAL_INVESTMENT) beside the plan.
    projections: dict[str, dict[str, Any]] = field(default_factory=dict)
    chart: dict[str, Any] = field(default_factory=dict)
    chart_year: int | None = None
    # Its 交办事项, open ones first (the section shows a few and links to the list).
    issues: list[dict[str, Any]] = field(default_factory=list)
    more_issues: bool = False


async def project_detail(apis: Apis, project_id: str, *, year: int | None) -> Detail:
    project = await call(apis.registry.get_project, project_id)
    # Eight calls at once: asyncio.gather's typing stops at six, hence the nesting.
    (
        (listings, milestones, reports, plans, timeline, alerts),
        (forecast, issues),
    ) = await asyncio.gather(
        asyncio.gather(
            call(apis.registry.project_listings, project_id),
            call(apis.milestone.milestones, project_id),
            call(apis.milestone.progress, project_id, limit=500),
            call(apis.milestone.investment_plans, project_id),
            call(apis.milestone.timeline, project_id, limit=500),
            call(apis.milestone.alerts, project_id=project_id, limit=200),
        ),
        asyncio.gather(
            call(apis.milestone.forecast, project_id),
            call(apis.milestone.issues, project_id, limit=PROJECT_ISSUES),
        ),
    )
    report_items = list(reports.get("items", []))
    plan_items = list(plans.get("items", []))
    years = sorted(
        {int(r["period_key"][:4]) for r in report_items} | {int(p["year"]) for p in plan_items}
    )
    chosen = year if year in years else (years[-1] if years else None)
    all_alerts = [in_language(a) for a in alerts.get("items", [])]
    return Detail(
        project=project,
        listings=list(listings),
        milestones=list(milestones.get("items", [])),
        reports=sorted(report_items, key=lambda r: r["period_end"], reverse=True),
        plans=plan_items,
        timeline=[{**t, "text": timeline_text(t)} for t in reversed(timeline.get("items", []))],
        firing=[a for a in all_alerts if a["state"] == "FIRING"],
        resolved=[a for a in reversed(all_alerts) if a["state"] != "FIRING"][:20],
        stage=str(timeline.get("stage") or project.get("stage")),
        projections={p["target"]: p for p in forecast.get("items", [])},
        chart=investment_chart(report_items, plan_items, chosen) if chosen else {},
        chart_year=chosen,
        issues=sorted(
            issues.get("items", []),
            key=lambda i: (i.get("status") == "CLOSED", str(i.get("due_on"))),
        ),
        more_issues=bool(issues.get("next_cursor")),
    )


def monthly_actuals(reports: list[dict[str, Any]], year: int) -> dict[int, int]:
    """本年完成投资 at the end of each month of `year` that has a report: the month's report,
    else its latest 旬 report."""
    best: dict[int, tuple[tuple[int, int], int]] = {}
    for report in reports:
        try:
            period = parse_period(report["period_key"])
        except ValueError:
            continue
        if period.year != year:
            continue
        # A month's own report beats its 旬; a later 旬 beats an earlier one.
        rank = (1, 0) if period.kind is ReportPeriodKind.MONTH else (0, period.xun)
        current = best.get(period.month)
        if current is None or rank > current[0]:
            best[period.month] = (rank, int(report["completed_investment_ytd"]))
    return {month: value for month, (_rank, value) in best.items()}


def investment_chart(
    reports: list[dict[str, Any]], plans: list[dict[str, Any]], year: int
) -> dict[str, Any]:
    """The ECharts option of plan against actual by month of `year`, with the 序时进度 line
    (the annual plan times the share of the year elapsed at each month's end)."""
    plan = next((p for p in plans if int(p["year"]) == year), None)
    annual = int(plan["annual_plan"]) if plan else 0
    # Officials read large amounts in 亿元: the axis switches when the plan reaches 1亿.
    scale, unit = (10_000, _("100 million yuan")) if annual >= 10_000 else (1, _("10k yuan"))
    actual = monthly_actuals(reports, year)
    last_month = max(actual) if actual else 0
    first_month = min(actual) if actual else 13
    months = list(range(1, 13))
    cumulative_actual: list[int | None] = []
    monthly_done: list[int | None] = []
    previous = 0
    for month in months:
        if month > last_month or month < first_month:
            cumulative_actual.append(None)
            monthly_done.append(None)
            continue
        value = actual.get(month, previous)
        cumulative_actual.append(value)
        monthly_done.append(max(0, value - previous))
        previous = value
    if plan and plan.get("monthly"):
        running = 0
        planned: list[int | None] = []
        for amount in plan["monthly"]:
            running += int(amount)
            planned.append(running)
    else:
        planned = [round(annual * m / 12) for m in months] if annual else [None] * 12
    # 序时进度 (sanpi.events.xun, the one definition) at each month's end.
    ends = [month_end(dt.date(year, m, 1)) for m in months]
    time_line = [round(annual * time_progress(end)) for end in ends] if annual else []
    labels = [month_label(m) for m in months]

    def scaled(values: list[int | None]) -> list[float | None]:
        return [None if v is None else round(v / scale, 2) for v in values]

    cumulative_actual_s = scaled(cumulative_actual)
    monthly_done_s = scaled(monthly_done)
    planned_s = scaled(planned)
    time_line_s = scaled(list(time_line))
    series: list[dict[str, Any]] = [
        {
            "name": _("Completed this month"),
            "type": "bar",
            "data": monthly_done_s,
            "itemStyle": {"color": "#8fb3e0"},
        },
        {
            "name": _("Completed this year (cumulative)"),
            "type": "line",
            "data": cumulative_actual_s,
            "itemStyle": {"color": "#1f3a5f"},
            "lineStyle": {"width": 3},
        },
        {
            "name": _("Plan (cumulative)"),
            "type": "line",
            "data": planned_s,
            "itemStyle": {"color": "#22884a"},
        },
    ]
    if time_line:
        series.append(
            {
                "name": _("Time progress"),
                "type": "line",
                "data": time_line_s,
                "symbol": "none",
                "itemStyle": {"color": "#c8102e"},
                "lineStyle": {"type": "dashed", "width": 2},
            }
        )
    return {
        "animation": False,
        "textStyle": {"fontFamily": "Noto Sans SC, sans-serif"},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 56, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": unit},
        "series": series,
    }


def timeline_text(item: dict[str, Any]) -> str:
    """A timeline entry in the page's language where its kind is known; else the service's."""
    kind = str(item.get("event_type") or "")
    data: dict[str, Any] = item.get("data") or {}
    if kind == "sanpi.project.stage_changed.v1" and data.get("to_stage"):
        return _(
            "Stage: %(before)s → %(after)s",
            before=label(STAGES, data.get("from_stage")) or "—",
            after=label(STAGES, data.get("to_stage")),
        )
    if kind == "sanpi.milestone.achieved.v1" and data.get("kind"):
        return _(
            "Milestone reached: %(kind)s on %(day)s",
            kind=data.get("label") or label(MILESTONES, data.get("kind")),
            day=i18n.day(data.get("actual_date") or data.get("date")),
        )
    if kind == "sanpi.progress.reported.v1" and data.get("period_key"):
        return _(
            "Report for %(period)s: %(amount)s completed in all",
            period=i18n.report_period(data.get("period_key")),
            amount=i18n.amount(data.get("completed_investment_cum")),
        )
    if kind.startswith("sanpi.alert.") and data.get("rule"):
        verb = {
            "sanpi.alert.raised.v1": _("Alert raised"),
            "sanpi.alert.updated.v1": _("Alert changed"),
            "sanpi.alert.resolved.v1": _("Alert resolved"),
        }.get(kind, _("Alert"))
        return (
            f"{verb}：{label(RULES, data.get('rule'))}（{label(SEVERITIES, data.get('severity'))}）"
        )
    if kind == "sanpi.project.registered.v1":
        return _("Project registered")
    if kind == "sanpi.project.listed.v1" and data.get("period"):
        return _(
            "Listed in period %(n)s: %(batch)s",
            n=data.get("period"),
            batch=label(BATCHES, data.get("batch")),
        )
    return str(item.get("summary") or kind)


def month_label(month: int) -> str:
    return _("Month %(m)s", m=month)


EVIDENCE_URI = re.compile(
    r"^(?:/v1/evidence/|sanpi-evidence:|evidence:)(?P<id>[0-9a-fA-F-]{8,64})$"
)


def evidence_id(uri: str) -> str | None:
    """The id of a photo stored by the milestone service, from an evidence URI; None for a
    reference to anywhere else (never loaded: the portal asks no other host)."""
    match = EVIDENCE_URI.match(uri)
    return match.group("id") if match else None


def image_type(data: bytes) -> str:
    """The type of a stored photo from its first bytes (the service keeps JPEG, PNG, WebP)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
