"""Response models of the import API: per row what the import does (or would do) and why not."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from sanpi.office.sheets import SheetFormat


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


class RowError(BaseModel):
    row: int = Field(description="the spreadsheet row number, as Excel shows it")
    column: str = Field(description="the column's header as written in the file")
    reason: str = Field(description="in the request's language (Accept-Language; Chinese default)")
    message: str = Field(
        default="", description='the whole line: 第 12 行「总投资」：应为整数万元，收到 "约3亿"'
    )
    code: str = Field(default="", description="conflict for a row changed since its export")


class FieldChange(BaseModel):
    field: str = Field(
        description="the API field (total_investment, enterprise_name, sign_period…)"
    )
    column: str = Field(description="its header in the file")
    old: Any
    new: Any


class RowOutcome(BaseModel):
    row: int
    action: Action
    project_id: str | None = None
    name: str | None = None
    changes: list[FieldChange] = Field(
        default_factory=list, description="update: only the fields that change"
    )
    errors: list[RowError] = Field(default_factory=list)


class ImportReport(BaseModel):
    dry_run: bool
    format: SheetFormat
    header_row: int = Field(default=1, description="where the header was found (title rows above)")
    rows: int = Field(description="data rows read (blank rows are skipped)")
    valid_rows: int
    created: int = Field(default=0, description="rows that create (dry run: would create)")
    updated: int = Field(default=0, description="rows that change a project")
    unchanged: int = Field(default=0, description="rows equal to their project")
    errors: list[RowError] = Field(default_factory=list)
    outcomes: list[RowOutcome] = Field(default_factory=list, description="one per data row")
    project_ids: list[str] = Field(
        default_factory=list, description="created and updated projects, in sheet order"
    )
