"""The 旬报/月报 template of a period and a park: one row per project that reports, its id, name
and last cumulative figure filled in, the figures of the period left to fill. Never writes."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events.xun import ReportPeriod
from sanpi.milestone.report_sheets import repository
from sanpi.milestone.report_sheets.columns import COLUMNS, fields
from sanpi.office import templates

XUN_NAMES = {0: "", 1: "上旬", 2: "中旬", 3: "下旬"}


def period_label(period: ReportPeriod) -> str:
    return f"{period.year}年{period.month}月{XUN_NAMES[period.xun]}"


async def template(session: AsyncSession, *, period: ReportPeriod, park: str) -> bytes:
    """The XLSX to fill in (dropdowns, number checks, frozen header)."""
    projects = await repository.reporting(session, park)
    last = await repository.last_before(
        session, [p.project_id for p in projects], period.kind, period.start
    )
    rows = []
    for project in projects:
        previous = last.get(project.project_id)
        values = {
            "project_id": project.project_id,
            "name": project.name,
            "park": project.park,
            "period_key": period.key,
            "previous_cum": None if previous is None else previous.completed_investment_cum,
        }
        rows.append([values.get(c.key) for c in COLUMNS])
    kind = "旬报" if period.xun else "月报"
    title = (
        f"{park}园区 {period_label(period)}{kind}（{len(rows)} 个项目；"
        f"填写后整表导入，截止 {period.deadline():%Y-%m-%d}）"
    )
    return templates.workbook(sheet=kind, title=title, fields=fields(), rows=rows)
