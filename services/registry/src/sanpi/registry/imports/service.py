"""Import a sheet (dry run or all-or-nothing) and export the filtered ledger. Never commits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, Stage
from sanpi.kit import FieldProblem, InvalidInput, Principal, UnitOfWork
from sanpi.registry.imports import sheets
from sanpi.registry.imports.columns import (
    BY_KEY,
    COLUMNS,
    HEADER_INDEX,
    PERIOD_KEYS,
    CellError,
    Column,
    export_value,
    normalise,
    parse_cell,
)
from sanpi.registry.imports.schemas import ImportReport, RowError
from sanpi.registry.listings import repository as listings
from sanpi.registry.listings.models import Listing
from sanpi.registry.listings.rules import ListingRefused, check_listing
from sanpi.registry.listings.service import emit_listed
from sanpi.registry.periods import repository as periods
from sanpi.registry.periods.models import Period
from sanpi.registry.projects import repository as projects
from sanpi.registry.projects import rules
from sanpi.registry.projects import service as project_service
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.repository import ProjectFilter
from sanpi.registry.projects.schemas import ProjectCreate, ProjectSort

HEADER_ROW = 1
BATCH_OF_COLUMN = {
    "sign_period": BatchType.SIGN,
    "start_period": BatchType.START,
    "produce_period": BatchType.PRODUCE,
}
# A pydantic error location (first element) → the sheet column it came from.
ENTERPRISE_FIELD = {v: k for k, v in rules.ENTERPRISE_COLUMNS.items()}


@dataclass
class ParsedRow:
    number: int  # spreadsheet row number (the header is row 1)
    project: Project | None = None
    listings: list[tuple[BatchType, int]] = field(default_factory=list)


@dataclass
class Header:
    """Which sheet column (by index) holds which ledger column, and the header as written."""

    index: dict[int, Column]
    written: dict[str, str]  # column key → the header as it stands in the file

    def name(self, key: str) -> str:
        return self.written.get(key) or BY_KEY[key].zh


def read_header(headers: Sequence[str]) -> tuple[Header, list[RowError]]:
    errors: list[RowError] = []
    header = Header({}, {})
    for position, text in enumerate(headers):
        if not text:
            errors.append(
                RowError(row=HEADER_ROW, column=f"#{position + 1}", reason="empty header")
            )
            continue
        column = HEADER_INDEX.get(normalise(text))
        if column is None:
            errors.append(RowError(row=HEADER_ROW, column=text, reason="unknown column"))
            continue
        if column.key in header.written:
            errors.append(
                RowError(
                    row=HEADER_ROW,
                    column=text,
                    reason=f"duplicate column: {header.written[column.key]} is the same",
                )
            )
            continue
        header.written[column.key] = text
        if column.importable:
            header.index[position] = column
    for column in COLUMNS:
        if column.required and column.key not in header.written:
            errors.append(
                RowError(row=HEADER_ROW, column=column.zh, reason=f"missing column ({column.en})")
            )
    return header, errors


def _pydantic_column(loc: tuple[int | str, ...]) -> str:
    if loc and loc[0] == "enterprise":
        return "enterprise_" + str(loc[1]) if len(loc) > 1 else "enterprise_name"
    return str(loc[0]) if loc else "name"


class RowReader:
    """Turns one data row into a Project and its listings, collecting every problem it has."""

    def __init__(
        self,
        header: Header,
        *,
        principal: Principal,
        parks: Sequence[str],
        known_periods: dict[int, Period],
    ) -> None:
        self.header = header
        self.principal = principal
        self.parks = parks
        self.periods = known_periods

    def read(self, number: int, cells: Sequence[Any]) -> tuple[ParsedRow, list[RowError]]:
        errors: list[RowError] = []

        def problem(key: str, reason: str) -> None:
            errors.append(RowError(row=number, column=self.header.name(key), reason=reason))

        values: dict[str, Any] = {}
        for position, column in self.header.index.items():
            raw = cells[position] if position < len(cells) else None
            try:
                value = parse_cell(column, raw)
            except CellError as exc:
                problem(column.key, str(exc))
                continue
            if value is not None:
                values[column.key] = value
        row = ParsedRow(number)
        project_id = values.pop("id", None)
        periods_wanted = {k: values.pop(k) for k in PERIOD_KEYS if k in values}
        body: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("enterprise_")}
        enterprise = {
            ENTERPRISE_FIELD[k]: v for k, v in values.items() if k.startswith("enterprise_")
        }
        if enterprise:
            body["enterprise"] = enterprise
        # Every problem of the row is reported, not only the first: a cell that could not be
        # read is left out, and the checks below skip the columns already at fault.
        unreadable = {e.column for e in errors}
        for key in ("name", "park", "total_investment"):
            if key not in values and self.header.name(key) not in unreadable:
                problem(key, "required")
        try:
            create = ProjectCreate.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                at = _pydantic_column(tuple(err["loc"]))
                if err["type"] != "missing" and self.header.name(at) not in unreadable:
                    problem(at, str(err["msg"]))
            if "park" in values and values["park"] not in self.parks:
                problem("park", f"unknown park; one of {', '.join(self.parks)}")
            self._check_periods(
                periods_wanted,
                problem,
                started=values.get("initial_stage") == Stage.UNDER_CONSTRUCTION.value,
            )
            return row, errors
        if errors:
            for p in rules.problems(rules.flatten(create.model_dump()), parks=self.parks):
                if self.header.name(p.field) not in unreadable:
                    problem(p.field, p.reason)
            direct = create.initial_stage is Stage.UNDER_CONSTRUCTION
            self._check_periods(periods_wanted, problem, started=direct)
            return row, errors
        project = project_service.new_project(create, principal=self.principal)
        if project_id is not None:
            try:
                project.id = str(uuid.UUID(str(project_id)))
            except ValueError:
                problem("id", f"{project_id!r} is not a project id (a UUID)")
        for p in rules.problems(project.model_dump(), parks=self.parks):
            problem(p.field, p.reason)
        if project.park in self.parks and not self.principal.can_write_park(project.park):
            problem("park", f"you may not write park {project.park}")
        row.listings = self._check_periods(
            periods_wanted, problem, started=project.initial_stage is Stage.UNDER_CONSTRUCTION
        )
        row.project = project
        return row, errors

    def _check_periods(
        self, wanted: dict[str, int], problem: Callable[[str, str], None], *, started: bool
    ) -> list[tuple[BatchType, int]]:
        """The row's listings (签约/开工/投产期次) that the listing rules accept."""
        existing: dict[BatchType, int] = {}
        accepted: list[tuple[BatchType, int]] = []
        for key, batch in BATCH_OF_COLUMN.items():
            if key not in wanted:
                continue
            period = self.periods.get(wanted[key])
            try:
                check_listing(
                    batch=batch,
                    period=wanted[key],
                    period_status=None if period is None else period.status,
                    existing=existing,
                    started=started,
                    cancelled=False,
                )
            except ListingRefused as exc:
                problem(key, exc.reason)
                continue
            existing[batch] = wanted[key]
            accepted.append((batch, wanted[key]))
        return accepted


async def import_sheet(
    uow: UnitOfWork,
    *,
    content: bytes,
    filename: str | None,
    fmt: sheets.SheetFormat | None,
    dry_run: bool,
    principal: Principal,
    parks: Sequence[str],
    max_rows: int,
) -> ImportReport:
    """Checks every row; a dry run reports, a real run writes all rows (with their events) or,
    if any row is bad, nothing at all (422 listing every bad row)."""
    chosen = fmt or sheets.detect(filename, content)
    try:
        # Seconds of CPU for a big sheet: off the event loop, and bounded (sheets.py).
        sheet = await asyncio.to_thread(sheets.read, content, chosen, sheets.Limits(max_rows))
    except sheets.SheetError as exc:
        raise InvalidInput(str(exc), errors=[FieldProblem("file", str(exc))]) from exc
    header, errors = read_header(sheet.headers)
    data = sheet.rows
    parsed: list[ParsedRow] = []
    if not errors:
        reader = RowReader(
            header,
            principal=principal,
            parks=parks,
            known_periods={p.number: p for p in await periods.all_periods(uow.session)},
        )
        for number, cells in data:
            row, row_errors = reader.read(number, cells)
            errors += row_errors
            if row.project is not None:
                parsed.append(row)
        errors += await _duplicate_ids(uow.session, parsed, header)
    report = ImportReport(
        dry_run=dry_run,
        format=chosen,
        rows=len(data),
        valid_rows=len({r.number for r in parsed} - {e.row for e in errors}),
        errors=sorted(errors, key=lambda e: (e.row, e.column)),
    )
    if dry_run:
        return report
    if errors:
        raise InvalidInput(
            f"{len({e.row for e in errors})} of {len(data)} rows have problems; nothing was imported",
            errors=[FieldProblem(f"row {e.row}: {e.column}", e.reason) for e in report.errors],
            rows=[e.model_dump() for e in report.errors],
        )
    known = {p.number: p for p in await periods.all_periods(uow.session)}
    for row in parsed:
        assert row.project is not None
        project_service.add_registered(uow, row.project)
    for row in parsed:
        project = row.project
        assert project is not None
        by_batch: dict[BatchType, int] = {}
        for batch, number in row.listings:
            emit_listed(
                uow,
                Listing(
                    project_id=project.id,
                    batch=batch,
                    period=number,
                    listed_total_investment=project.total_investment,
                    listed_annual_plan=project.annual_plan_investment,
                    source_period=by_batch.get(BatchType.START)
                    if batch is BatchType.PRODUCE
                    else None,
                    listed_by=principal.subject,
                ),
                known[number],
            )
            by_batch[batch] = number
    report.created = len(parsed)
    report.project_ids = [r.project.id for r in parsed if r.project is not None]
    return report


async def _duplicate_ids(
    session: AsyncSession, parsed: list[ParsedRow], header: Header
) -> list[RowError]:
    """An id already in the registry, or twice in the sheet: importing it again would duplicate."""
    if "id" not in header.written:
        return []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    ids = [r.project.id for r in parsed if r.project is not None]
    existing = await projects.existing_ids(session, ids)
    for row in parsed:
        assert row.project is not None
        pid = row.project.id
        if pid in existing:
            errors.append(
                RowError(
                    row=row.number,
                    column=header.name("id"),
                    reason="already in the registry (change it with PATCH, or clear the id)",
                )
            )
        elif pid in seen:
            errors.append(
                RowError(
                    row=row.number, column=header.name("id"), reason=f"same id as row {seen[pid]}"
                )
            )
        seen.setdefault(pid, row.number)
    return errors


async def export_sheet(
    session: AsyncSession,
    *,
    filters: ProjectFilter,
    sort: ProjectSort,
    fmt: sheets.SheetFormat,
    chinese: bool,
) -> bytes:
    """The filtered ledger as one sheet, every column of the import plus the current stage."""
    rows = await projects.all_matching(session, filters=filters, sort=sort)
    listed: dict[str, dict[BatchType, int]] = {}
    for listing in await listings.of_projects(session, [p.id for p in rows]):
        listed.setdefault(listing.project_id, {})[listing.batch] = listing.period
    headers = [c.zh if chinese else c.en for c in COLUMNS]
    table = [[_cell(c, p, listed.get(p.id, {}), chinese) for c in COLUMNS] for p in rows]
    return sheets.write(headers, table, fmt)


def _cell(column: Column, project: Project, listed: dict[BatchType, int], chinese: bool) -> Any:
    if column.key in BATCH_OF_COLUMN:
        value: Any = listed.get(BATCH_OF_COLUMN[column.key])
    elif column.key == "started_date" and project.initial_stage is not Stage.UNDER_CONSTRUCTION:
        value = None  # reached through a milestone: the stage projection's, not master data
    elif column.key == "total_investment_yi":
        value = round(project.total_investment / 10_000, 2)
    else:
        value = getattr(project, column.key)
    return export_value(column, value, chinese=chinese)
