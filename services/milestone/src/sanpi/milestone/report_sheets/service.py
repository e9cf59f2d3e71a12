"""旬报/月报 sheets: the template of a period and a park (a row per project that reports, its id,
name and last cumulative figure filled in), and a filled sheet read into the rows of a report
batch (POST /v1/progress/batch's path), its outcomes told by spreadsheet row. Never writes."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events.labels import field_of_header
from sanpi.events.xun import ReportPeriod
from sanpi.kit.messages import FieldMessage, Lang
from sanpi.milestone.progress import messages as batch
from sanpi.milestone.report_sheets import repository
from sanpi.milestone.report_sheets.columns import COLUMNS, fields
from sanpi.milestone.report_sheets.messages import NOTHING_WRITTEN, SAME_IN_SHEET
from sanpi.milestone.report_sheets.schemas import (
    SheetImportResult,
    SheetRowError,
    SheetRowResult,
)
from sanpi.office import sheets, templates


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
        f"{park}园区 {period.zh}{kind}（{len(rows)} 个项目；"
        f"填写后整表导入，截止 {period.deadline():%Y-%m-%d}）"
    )
    return templates.workbook(sheet=kind, title=title, fields=fields(), rows=rows)


# --- import ------------------------------------------------------------------------------------

# Header → the batch report's field. The template's headers, the fields' own names and their
# labels (累计完成投资（万元）, 形象进度(%), …) are all understood.
REPORT_FIELDS = (
    "project_id",
    "period_key",
    "completed_investment_cum",
    "completed_investment_ytd",
    "funds_arrived_cum",
    "physical_progress_pct",
    "narrative",
    "problems",
    "correction",
)
REFERENCE = {c.zh: c.key for c in COLUMNS if c.read_only}
PROBLEM_SEPARATORS = re.compile(r"[；;\n]+")
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√"}


def column_of(header: str) -> str | None:
    """The report field a header names, "" for a reference column (name, park, last figure), None
    for a header that is neither."""
    text = unicodedata.normalize("NFKC", header).strip()
    for column in COLUMNS:
        if text == unicodedata.normalize("NFKC", column.zh):
            return "" if column.read_only else column.key
    if text in ("项目名称", "名称", "园区", "所属园区"):
        return ""
    return field_of_header(header, REPORT_FIELDS) or field_of_header(text, REPORT_FIELDS)


def is_column(header: str) -> bool:
    return column_of(header) is not None


def _cell(value: Any) -> Any:
    """A cell as JSON would carry it: whole floats as ints, stripped text, dates as text."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def row_body(columns: dict[int, str], cells: Sequence[Any]) -> dict[str, Any]:
    """One sheet row as a batch row (blank cells left out, so the defaults apply)."""
    body: dict[str, Any] = {}
    for position, key in columns.items():
        raw = cells[position] if position < len(cells) else None
        if not sheets.filled(raw):
            continue
        value = _cell(raw)
        if key == "problems":
            body[key] = [
                {"description": part.strip()}
                for part in PROBLEM_SEPARATORS.split(str(value))
                if part.strip()
            ]
        elif key == "correction":
            body[key] = (
                str(value).strip().lower() in TRUE_WORDS if not isinstance(value, bool) else value
            )
        elif key in ("project_id", "period_key", "narrative"):
            body[key] = str(value)
        else:
            body[key] = value
    return body


@dataclass
class ReadSheet:
    format: sheets.SheetFormat
    header_row: int
    headers: list[str]
    columns: dict[int, str]  # position → report field
    rows: list[tuple[int, dict[str, Any]]]  # spreadsheet row → batch row


def read_sheet(content: bytes, filename: str | None, max_rows: int) -> ReadSheet:
    """The sheet's rows as batch rows; SheetError when the file is not a 旬报 sheet. In a thread."""
    fmt = sheets.detect(filename, content)
    sheet = sheets.read(content, fmt, sheets.Limits(max_rows), is_column=is_column)
    columns: dict[int, str] = {}
    for position, header in enumerate(sheet.headers):
        key = column_of(header) if header else None
        if key:
            columns[position] = key
    missing = [
        f
        for f in (
            "project_id",
            "period_key",
            "completed_investment_cum",
            "completed_investment_ytd",
        )
        if f not in columns.values()
    ]
    if missing:
        names = "、".join(next(c.zh for c in COLUMNS if c.key == f) for f in missing)
        raise sheets.SheetError(
            f"第 {sheet.header_row} 行表头缺少这些列：{names}",
            f"the header (row {sheet.header_row}) lacks: {', '.join(missing)}",
        )
    rows = [(number, row_body(columns, cells)) for number, cells in sheet.rows]
    return ReadSheet(fmt, sheet.header_row, sheet.headers, columns, rows)


def by_sheet_row(problem: FieldMessage, read: ReadSheet) -> FieldMessage:
    """A batch message naming batch positions (1-based) retold with the sheet's row numbers."""
    message = problem.message
    if message.template is batch.NOTHING_WRITTEN:
        refused = [read.rows[int(i) - 1][0] for i in str(message.params["rows"]).split("、")]
        return FieldMessage(problem.field, NOTHING_WRITTEN(rows="、".join(map(str, refused))))
    if message.template is batch.SAME_IN_BATCH:
        other = read.rows[int(message.params["other"]) - 1][0]
        return FieldMessage(
            problem.field, SAME_IN_SHEET(other=other, period=message.params["period"])
        )
    return problem


def results(read: ReadSheet, outcomes: Sequence[Any], lang: Lang) -> SheetImportResult:
    """The batch's outcomes by spreadsheet row, messages as lines of the sheet."""
    header_of = {key: read.headers[position] for position, key in read.columns.items()}
    found = []
    for outcome in outcomes:
        number = read.rows[outcome.index][0]
        report = outcome.report
        report_id = None
        if report is not None:
            report_id = report["id"] if isinstance(report, dict) else report.id
        found.append(
            SheetRowResult(
                row=number,
                project_id=outcome.project_id,
                status=outcome.status,
                report_id=report_id,
                errors=[
                    SheetRowError(
                        field=p.field,
                        column=header_of.get(p.field.split(".")[0], ""),
                        code=p.message.code,
                        message=p.for_row(number, lang),
                    )
                    for p in (by_sheet_row(q, read) for q in outcome.problems)
                ],
            )
        )
    counts = Counter(r.status for r in found)
    return SheetImportResult(
        format=read.format,
        header_row=read.header_row,
        rows=len(read.rows),
        accepted=counts["accepted"] + counts["late"],
        late=counts["late"],
        duplicate=counts["duplicate"],
        refused=counts["refused"],
        results=found,
    )
