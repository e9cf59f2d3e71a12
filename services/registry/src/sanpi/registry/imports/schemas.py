"""Response models of the import API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sanpi.registry.imports.sheets import SheetFormat


class RowError(BaseModel):
    row: int = Field(description="spreadsheet row number; the header is row 1")
    column: str = Field(description="the column's header as written in the file")
    reason: str


class ImportReport(BaseModel):
    dry_run: bool
    format: SheetFormat
    rows: int = Field(description="data rows read (blank rows are skipped)")
    valid_rows: int
    created: int = 0
    errors: list[RowError] = Field(default_factory=list)
    project_ids: list[str] = Field(default_factory=list, description="in sheet order")
