"""Import a ledger sheet (dry run or all-or-nothing) and export it, as a template or the filtered
ledger. A row naming a project (项目ID, else 项目代码) updates it with the fields that changed; a
row naming none creates one. Never commits."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, Stage
from sanpi.kit import CAMPAIGN_TZ, FieldProblem, InvalidInput, Principal, UnitOfWork, utcnow
from sanpi.kit.errors import Said, said_in
from sanpi.kit.messages import Bilingual, Lang
from sanpi.office import sheets, templates
from sanpi.registry.imports.columns import (
    BY_KEY,
    COLUMNS,
    HEADER_INDEX,
    PERIOD_KEYS,
    CellError,
    Column,
    export_value,
    fields,
    is_column,
    normalise,
    parse_cell,
)
from sanpi.registry.imports.messages import from_pydantic, quoted, row_line
from sanpi.registry.imports.schemas import (
    Action,
    FieldChange,
    ImportReport,
    RowError,
    RowOutcome,
)
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
from sanpi.registry.projects.schemas import ProjectCreate, ProjectSort, ProjectUpdate

BATCH_OF_COLUMN = {
    "sign_period": BatchType.SIGN,
    "start_period": BatchType.START,
    "produce_period": BatchType.PRODUCE,
}
BATCH_LABELS = {BatchType.SIGN: "签约", BatchType.START: "开工", BatchType.PRODUCE: "投产"}
# A pydantic error location (first element) → the sheet column it came from.
ENTERPRISE_FIELD = {v: k for k, v in rules.ENTERPRISE_COLUMNS.items()}
# Columns an update compares and may change (master data a PATCH may change).
UPDATABLE = tuple(
    c.key
    for c in COLUMNS
    if c.importable
    and c.key not in ("id", "version", "initial_stage", "started_date", *PERIOD_KEYS)
)
AMOUNT_KEYS = {c.key for c in COLUMNS if "万元" in c.zh}
WORKBOOK_TITLE = "项目台账"


@dataclass
class Header:
    """Which sheet column (by index) holds which ledger column, and the header as written."""

    row: int
    index: dict[int, Column]
    written: dict[str, str]  # column key → the header as it stands in the file

    def name(self, key: str) -> str:
        return self.written.get(key) or BY_KEY[key].zh


@dataclass
class ParsedRow:
    number: int  # spreadsheet row number
    values: dict[str, Any]  # column key → value (None: blank) for every importable column
    errors: list[RowError] = field(default_factory=list)
    action: Action = Action.ERROR
    project: Project | None = None  # create: the new row; update: the project it changes
    changes: dict[str, Any] = field(default_factory=dict)  # update: column → new value
    listings: list[tuple[BatchType, int]] = field(default_factory=list)  # to add


class Problems:
    """Collects a row's errors, rendered in the reader's language."""

    def __init__(self, row: ParsedRow, header: Header, lang: Lang) -> None:
        self.row, self.header, self.lang = row, header, lang

    def add(self, key: str, said: Said, code: str = "") -> None:
        column = self.header.name(key)
        reason = said_in(said, self.lang)
        label = BY_KEY[key].label(self.lang) if key in BY_KEY else column
        self.row.errors.append(
            RowError(
                row=self.row.number,
                column=column,
                reason=reason,
                message=row_line(self.row.number, label, reason, self.lang),
                code=code,
            )
        )

    def has(self, key: str) -> bool:
        column = self.header.name(key)
        return any(e.column == column for e in self.row.errors)


def read_header(
    header_row: int, headers: Sequence[str], lang: Lang
) -> tuple[Header, list[RowError]]:
    errors: list[RowError] = []
    header = Header(header_row, {}, {})

    def problem(column: str, said: Said) -> None:
        reason = said_in(said, lang)
        errors.append(
            RowError(
                row=header_row,
                column=column,
                reason=reason,
                message=row_line(header_row, column, reason, lang),
            )
        )

    for position, text in enumerate(headers):
        if not text:
            problem(f"#{position + 1}", Bilingual("表头为空", "empty header"))
            continue
        column = HEADER_INDEX.get(normalise(text))
        if column is None:
            problem(text, Bilingual("不认识的列", "unknown column"))
            continue
        if column.key in header.written:
            problem(
                text,
                Bilingual(
                    f"重复的列：与「{header.written[column.key]}」相同",
                    f"duplicate column: {header.written[column.key]} is the same",
                ),
            )
            continue
        header.written[column.key] = text
        if column.importable:
            header.index[position] = column
    for column in COLUMNS:
        if column.required and column.key not in header.written:
            problem(
                column.zh, Bilingual(f"缺少这一列（{column.en}）", f"missing column ({column.en})")
            )
    return header, errors


def _pydantic_column(loc: tuple[int | str, ...]) -> str:
    if loc and loc[0] == "enterprise":
        return "enterprise_" + str(loc[1]) if len(loc) > 1 else "enterprise_name"
    return str(loc[0]) if loc else "name"


class Planner:
    """Decides what each parsed row does (create, update, unchanged) and finds its problems."""

    def __init__(
        self,
        header: Header,
        *,
        principal: Principal,
        parks: Sequence[str],
        known_periods: dict[int, Period],
        lang: Lang,
    ) -> None:
        self.header = header
        self.principal = principal
        self.parks = parks
        self.periods = known_periods
        self.lang = lang

    def parse(self, number: int, cells: Sequence[Any]) -> ParsedRow:
        row = ParsedRow(number, {})
        problems = Problems(row, self.header, self.lang)
        for position, column in self.header.index.items():
            raw = cells[position] if position < len(cells) else None
            try:
                row.values[column.key] = parse_cell(column, raw)
            except CellError as exc:
                problems.add(column.key, exc.said)
                row.values[column.key] = None
        return row

    # --- create ------------------------------------------------------------------------------

    def create(self, row: ParsedRow) -> None:
        problems = Problems(row, self.header, self.lang)
        values = {k: v for k, v in row.values.items() if v is not None}
        project_id = values.pop("id", None)
        values.pop("version", None)  # a new project starts at version 1
        wanted = {k: values.pop(k) for k in PERIOD_KEYS if k in values}
        body: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("enterprise_")}
        enterprise = {
            ENTERPRISE_FIELD[k]: v for k, v in values.items() if k.startswith("enterprise_")
        }
        if enterprise:
            body["enterprise"] = enterprise
        # Every problem of the row is reported, not only the first: a cell that could not be
        # read is left out, and the checks below skip the columns already at fault.
        for key in ("name", "park", "total_investment"):
            if key not in values and not problems.has(key):
                problems.add(key, Bilingual("必须填写", "required"))
        try:
            create = ProjectCreate.model_validate(body)
        except ValidationError as exc:
            self._pydantic(exc, problems)
            if "park" in values and values["park"] not in self.parks:
                problems.add("park", self._unknown_park(values["park"]))
            started = values.get("initial_stage") == Stage.UNDER_CONSTRUCTION.value
            self._new_listings(row, wanted, {}, problems, started=started, cancelled=False)
            return
        project = project_service.new_project(create, principal=self.principal)
        if project_id is not None:
            try:
                project.id = str(uuid.UUID(str(project_id)))
            except ValueError:
                problems.add(
                    "id",
                    Bilingual(
                        f"不是项目ID（UUID），收到 {quoted(project_id)}",
                        f"{project_id!r} is not a project id (a UUID)",
                    ),
                )
        self._rules(project.model_dump(), problems)
        if project.park in self.parks and not self.principal.can_write_park(project.park):
            problems.add("park", self._not_your_park(project.park))
        row.listings = self._new_listings(
            row,
            wanted,
            {},
            problems,
            started=project.initial_stage is Stage.UNDER_CONSTRUCTION,
            cancelled=False,
        )
        row.project = project
        row.action = Action.CREATE

    # --- update ------------------------------------------------------------------------------

    def update(self, row: ParsedRow, project: Project, listed: dict[BatchType, int]) -> None:
        problems = Problems(row, self.header, self.lang)
        row.project = project
        body: dict[str, Any] = {}
        for key in UPDATABLE:
            if key not in self.header.written or key.startswith("enterprise_"):
                continue
            if row.values.get(key) is None and problems.has(key):
                continue  # unreadable: reported already
            body[key] = row.values.get(key)
        if any(k.startswith("enterprise_") for k in self.header.written):
            body["enterprise"] = self._enterprise(row, project)
        for key in ("name", "park", "total_investment"):
            if key in body and body[key] is None and not problems.has(key):
                problems.add(key, Bilingual("必须填写", "required"))
                body.pop(key)
        try:
            update = ProjectUpdate.model_validate(body)
        except ValidationError as exc:
            self._pydantic(exc, problems)
            return
        changes = rules.flatten(update.model_dump(exclude_unset=True, exclude={"version"}))
        if "is_manufacturing" in changes:
            changes["is_manufacturing"] = bool(changes["is_manufacturing"])
        changed = project_service.changed_columns(project, changes)
        row.changes = {k: changes[k] for k in changed}
        self._fixed(row, project, problems)
        started = project_service.reached(project, Stage.UNDER_CONSTRUCTION)
        wanted = {k: row.values.get(k) for k in PERIOD_KEYS if k in self.header.written}
        row.listings = self._new_listings(
            row,
            wanted,
            listed,
            problems,
            started=started,
            cancelled=project.cancelled_on is not None,
        )
        if not row.changes and not row.listings:
            if not row.errors:
                row.action = Action.UNCHANGED
            return
        merged = {**project.model_dump(), **changes}
        self._rules(merged, problems, only=set(row.changes))
        for park in {project.park, row.changes.get("park", project.park)}:
            if not self.principal.can_write_park(park):
                problems.add("park", self._not_your_park(park))
                break
        if project.cancelled_on is not None and row.changes:
            problems.add(
                next(iter(row.changes)),
                Bilingual(
                    f"项目已于 {project.cancelled_on} 终止，主数据不能再修改",
                    f"the project was cancelled on {project.cancelled_on}; its master data is frozen",
                ),
            )
        self._version(row, project, problems)
        row.action = Action.UPDATE

    def _enterprise(self, row: ParsedRow, project: Project) -> dict[str, Any] | None:
        """The enterprise as the sheet leaves it: its columns, the project's for columns absent."""
        values = {}
        for sub, column in rules.ENTERPRISE_COLUMNS.items():
            if column in self.header.written:
                values[sub] = row.values.get(column)
            else:
                values[sub] = getattr(project, column)
        if all(v is None for v in values.values()):
            return None
        return {k: v for k, v in values.items() if v is not None}

    def _fixed(self, row: ParsedRow, project: Project, problems: Problems) -> None:
        """初始阶段 and a direct start's 开工日期 are set once, when the project is registered."""
        stage = row.values.get("initial_stage")
        if "initial_stage" in self.header.written and stage not in (None, project.initial_stage):
            problems.add(
                "initial_stage",
                Bilingual(
                    "初始阶段只在登记时填写，不能通过导入修改",
                    "the initial stage is set at registration; an import cannot change it",
                ),
            )
        if "started_date" in self.header.written:
            direct = project.initial_stage is Stage.UNDER_CONSTRUCTION
            expected = project.started_date if direct else None
            if row.values.get("started_date") != expected and not problems.has("started_date"):
                problems.add(
                    "started_date",
                    Bilingual(
                        "开工日期不能通过导入修改（由登记或开工里程碑确定）",
                        "the start date cannot be changed by an import (registration or the "
                        "STARTED milestone sets it)",
                    ),
                )

    def _version(self, row: ParsedRow, project: Project, problems: Problems) -> None:
        version = row.values.get("version")
        if version is None or problems.has("version"):
            return
        if version < project.version:
            problems.add(
                "version",
                Bilingual(
                    f"导出后该项目已被修改（表中版本 {version}，当前版本 {project.version}）："
                    "请重新导出后再改",
                    f"changed since this sheet was exported (version {version} here, "
                    f"{project.version} now): export again and redo the edit",
                ),
                code="conflict",
            )
        elif version > project.version:
            problems.add(
                "version",
                Bilingual(
                    f"版本 {version} 不存在（当前版本 {project.version}）",
                    f"version {version} does not exist (the project is at {project.version})",
                ),
            )

    # --- shared checks -------------------------------------------------------------------------

    def _pydantic(self, exc: ValidationError, problems: Problems) -> None:
        for err in exc.errors():
            at = _pydantic_column(tuple(err["loc"]))
            if at not in BY_KEY:
                at = "name"
            if err["type"] != "missing" and not problems.has(at):
                problems.add(at, from_pydantic(err, wan=at in AMOUNT_KEYS))
            elif err["type"] == "missing" and not problems.has(at):
                problems.add(at, Bilingual("必须填写", "required"))

    def _rules(
        self, values: dict[str, Any], problems: Problems, only: set[str] | None = None
    ) -> None:
        for p in rules.problems(values, parks=self.parks):
            if only is not None and p.field not in only:
                continue
            if problems.has(p.field):
                continue
            if p.field == "park":
                problems.add("park", self._unknown_park(values.get("park")))
            else:
                # The rule's own message, which reads in either language (the Chinese
                # wrapped the English reason once).
                problems.add(p.field, p.reason)

    def _unknown_park(self, park: Any) -> Said:
        return Bilingual(
            f"没有园区 {quoted(park)}：应为 {'、'.join(self.parks)} 之一",
            f"unknown park; one of {', '.join(self.parks)}",
        )

    def _not_your_park(self, park: str) -> Said:
        # The kit's refusal, as every other write outside the caller's parks words it.
        return self.principal.park_refused(park)

    def _new_listings(
        self,
        row: ParsedRow,
        wanted: dict[str, Any],
        listed: dict[BatchType, int],
        problems: Problems,
        *,
        started: bool,
        cancelled: bool,
    ) -> list[tuple[BatchType, int]]:
        """The row's listings (签约/开工/投产期次) not yet on record that the listing rules accept."""
        existing = dict(listed)
        accepted: list[tuple[BatchType, int]] = []
        for key, batch in BATCH_OF_COLUMN.items():
            if key not in wanted or problems.has(key):
                continue
            number = wanted[key]
            current = listed.get(batch)
            if number == current:
                continue
            if current is not None:
                problems.add(
                    key,
                    Bilingual(
                        f"已在第 {current} 期{BATCH_LABELS[batch]}清单上；清单不能通过导入修改或删除",
                        f"already on period {current}'s {batch} list; an import cannot change "
                        "or remove a listing",
                    ),
                )
                continue
            if number is None:
                continue
            period = self.periods.get(number)
            try:
                check_listing(
                    batch=batch,
                    period=number,
                    period_status=None if period is None else period.status,
                    existing=existing,
                    started=started,
                    cancelled=cancelled,
                )
            except ListingRefused as exc:
                problems.add(key, exc.said)
                continue
            existing[batch] = number
            accepted.append((batch, number))
        return accepted


async def _targets(
    session: AsyncSession, rows: list[ParsedRow]
) -> tuple[dict[str, Project], dict[str, list[Project]], dict[str, dict[BatchType, int]]]:
    """The projects the rows name (by id, by code) and their listings."""
    ids = sorted({i for r in rows if (i := _uuid(r.values.get("id"))) is not None})
    codes = sorted(
        {
            str(code)
            for r in rows
            if r.values.get("id") is None
            and (code := r.values.get("national_project_code")) is not None
        }
    )
    by_id = {p.id: p for p in await projects.by_ids(session, ids)}
    by_code: dict[str, list[Project]] = {}
    for p in await projects.by_codes(session, codes):
        assert p.national_project_code is not None
        by_code.setdefault(p.national_project_code, []).append(p)
    found = [*by_id, *(p.id for group in by_code.values() for p in group)]
    listed: dict[str, dict[BatchType, int]] = {}
    for listing in await listings.of_projects(session, found):
        listed.setdefault(listing.project_id, {})[listing.batch] = listing.period
    return by_id, by_code, listed


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


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
    lang: Lang = "zh",
) -> ImportReport:
    """Checks every row; a dry run reports what each row would do, a real run writes all rows
    (with their events) or, if any row is bad, nothing at all (422 listing every bad row)."""
    try:
        chosen = fmt or sheets.detect(filename, content)
        # Seconds of CPU for a big sheet: off the event loop.
        sheet = await asyncio.to_thread(
            sheets.read, content, chosen, sheets.Limits(max_rows), is_column=is_column
        )
    except sheets.SheetError as exc:
        said = exc.text(lang)
        raise InvalidInput(said, errors=[FieldProblem("file", said)]) from exc
    header, header_errors = read_header(sheet.header_row, sheet.headers, lang)
    rows: list[ParsedRow] = []
    if not header_errors:
        planner = Planner(
            header,
            principal=principal,
            parks=parks,
            known_periods={p.number: p for p in await periods.all_periods(uow.session)},
            lang=lang,
        )
        rows = [planner.parse(number, cells) for number, cells in sheet.rows]
        by_id, by_code, listed = await _targets(uow.session, rows)
        seen: dict[str, int] = {}
        for row in rows:
            target = _target(row, by_id, by_code, header, lang)
            if target is None:
                planner.create(row)
            else:
                planner.update(row, target, listed.get(target.id, {}))
            # Two rows about one project: the same id (given or matched) or, for new projects
            # named by their code only, the same code.
            key = None
            code = row.values.get("national_project_code")
            if row.project is not None and (target is not None or row.values.get("id")):
                key = row.project.id
            elif code is not None:
                key = f"code:{code}"
            if key is not None:
                if key in seen:
                    Problems(row, header, lang).add(
                        "id" if "id" in header.written else "national_project_code",
                        Bilingual(
                            f"与第 {seen[key]} 行是同一个项目", f"same project as row {seen[key]}"
                        ),
                    )
                seen.setdefault(key, row.number)
            if row.errors:
                row.action = Action.ERROR
    errors = header_errors + [e for r in rows for e in r.errors]
    report = ImportReport(
        dry_run=dry_run,
        format=chosen,
        header_row=sheet.header_row,
        rows=len(sheet.rows),
        valid_rows=sum(1 for r in rows if r.action is not Action.ERROR),
        errors=errors,
        outcomes=[_outcome(r, header) for r in rows],
    )
    report.created = sum(1 for r in rows if r.action is Action.CREATE)
    report.updated = sum(1 for r in rows if r.action is Action.UPDATE)
    report.unchanged = sum(1 for r in rows if r.action is Action.UNCHANGED)
    report.project_ids = [
        r.project.id
        for r in rows
        if r.project is not None and r.action in (Action.CREATE, Action.UPDATE)
    ]
    if dry_run:
        return report
    if errors:
        bad = len({e.row for e in errors})
        detail = (
            f"{len(sheet.rows)} 行中有 {bad} 行有问题，整个文件都没有导入"
            if lang == "zh"
            else f"{bad} of {len(sheet.rows)} rows have problems; nothing was imported"
        )
        raise InvalidInput(
            detail,
            errors=[FieldProblem(f"row {e.row}: {e.column}", e.reason) for e in errors],
            rows=[e.model_dump() for e in errors],
        )
    await _write(uow, rows, principal)
    return report


def _target(
    row: ParsedRow,
    by_id: dict[str, Project],
    by_code: dict[str, list[Project]],
    header: Header,
    lang: Lang,
) -> Project | None:
    """The project a row names: by its id; without one, by its 项目代码 (one project only)."""
    given = _uuid(row.values.get("id"))
    if given is not None:
        return by_id.get(given)
    if row.values.get("id") is not None:
        return None  # not a UUID: the create path reports it
    code = row.values.get("national_project_code")
    matches = by_code.get(code, []) if code is not None else []
    if len(matches) > 1:
        Problems(row, header, lang).add(
            "national_project_code",
            Bilingual(
                f"项目代码对应 {len(matches)} 个项目：请填写项目ID",
                f"{len(matches)} projects carry this code: give the project id",
            ),
        )
    return matches[0] if len(matches) == 1 else None


def _outcome(row: ParsedRow, header: Header) -> RowOutcome:
    project = row.project
    changes = []
    if row.action is Action.UPDATE and project is not None:
        changes = [
            FieldChange(field=key, column=header.name(key), old=getattr(project, key), new=value)
            for key, value in row.changes.items()
        ]
        for batch, number in row.listings:
            key = next(k for k, b in BATCH_OF_COLUMN.items() if b is batch)
            changes.append(FieldChange(field=key, column=header.name(key), old=None, new=number))
    return RowOutcome(
        row=row.number,
        action=row.action,
        project_id=None if project is None else project.id,
        name=row.values.get("name") or (None if project is None else project.name),
        changes=changes,
        errors=row.errors,
    )


async def _write(uow: UnitOfWork, rows: list[ParsedRow], principal: Principal) -> None:
    """Creates and updates, each with its events, in sheet order (one transaction)."""
    known = {p.number: p for p in await periods.all_periods(uow.session)}
    for row in rows:
        if row.action is Action.CREATE and row.project is not None:
            project_service.add_registered(uow, row.project)
        elif row.action is Action.UPDATE and row.project is not None and row.changes:
            project_service.apply_changes(uow, row.project, row.changes, principal=principal)
    listed_before: dict[str, dict[BatchType, int]] = {}
    updated = [r.project.id for r in rows if r.action is Action.UPDATE and r.project is not None]
    for listing in await listings.of_projects(uow.session, updated):
        listed_before.setdefault(listing.project_id, {})[listing.batch] = listing.period
    for row in rows:
        project = row.project
        if project is None or row.action not in (Action.CREATE, Action.UPDATE):
            continue
        by_batch = dict(listed_before.get(project.id, {}))
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


# --- export and templates -------------------------------------------------------------------------


async def export_sheet(
    session: AsyncSession,
    *,
    filters: ProjectFilter,
    sort: ProjectSort,
    fmt: sheets.SheetFormat,
    chinese: bool,
    parks: Sequence[str],
    district: str,
) -> bytes:
    """The filtered ledger as one sheet, every column of the import plus the current stage; the
    XLSX is laid out as the template (notes, dropdowns, frozen header) for editing."""
    rows = await projects.all_matching(session, filters=filters, sort=sort)
    listed: dict[str, dict[BatchType, int]] = {}
    for listing in await listings.of_projects(session, [p.id for p in rows]):
        listed.setdefault(listing.project_id, {})[listing.batch] = listing.period
    table = ([_cell(c, p, listed.get(p.id, {}), chinese) for c in COLUMNS] for p in rows)
    if fmt is sheets.SheetFormat.CSV:
        return sheets.write_csv([c.header(chinese) for c in COLUMNS], list(table))
    now = utcnow().astimezone(CAMPAIGN_TZ)
    title = (
        f"{district}{WORKBOOK_TITLE}（导出于 {now:%Y-%m-%d %H:%M}，共 {len(rows)} 个项目；"
        "改好后整表导入即可更新）"
        if chinese
        else f"{district} project ledger (exported {now:%Y-%m-%d %H:%M}, {len(rows)} projects)"
    )
    return await asyncio.to_thread(
        templates.workbook,
        sheet=WORKBOOK_TITLE,
        title=title,
        fields=fields(chinese=chinese, parks=parks),
        rows=table,
    )


def template(*, chinese: bool, parks: Sequence[str], district: str) -> bytes:
    """An empty ledger to fill in: the export's layout without rows."""
    title = (
        f"{district}{WORKBOOK_TITLE}导入模板（第 2 行为填写说明；金额单位：万元）"
        if chinese
        else f"{district} project ledger template (row 2 explains each column; amounts in 万元)"
    )
    return templates.workbook(
        sheet=WORKBOOK_TITLE,
        title=title,
        fields=fields(chinese=chinese, parks=parks),
        rows=[],
    )


def _cell(column: Column, project: Project, listed: dict[BatchType, int], chinese: bool) -> Any:
    if column.key in BATCH_OF_COLUMN:
        value: Any = listed.get(BATCH_OF_COLUMN[column.key])
    elif column.key == "started_date" and project.initial_stage is not Stage.UNDER_CONSTRUCTION:
        value = None  # reached through a milestone: the stage projection's, not master data
    elif column.key == "total_investment_yi":
        value = round(project.total_investment / 10_000, 2)
    else:
        value = getattr(project, column.key)
    if isinstance(value, dt.datetime):
        value = value.astimezone(CAMPAIGN_TZ).replace(tzinfo=None)
    return export_value(column, value, chinese=chinese)
