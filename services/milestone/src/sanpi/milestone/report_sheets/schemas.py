"""Response model of a 旬报/月报 sheet import: per row, what became of it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sanpi.office.sheets import SheetFormat


class SheetRowError(BaseModel):
    field: str = Field(description="the report's field; empty for the whole row")
    column: str = Field(description="its header in the file")
    code: str
    message: str = Field(description='第 12 行「累计完成投资」：应为整数万元，收到 "约3亿"')


class SheetRowResult(BaseModel):
    row: int = Field(description="the spreadsheet row number")
    project_id: str | None
    status: Literal["accepted", "late", "duplicate", "refused"]
    report_id: str | None = None
    errors: list[SheetRowError] = Field(default_factory=list)


class SheetImportResult(BaseModel):
    format: SheetFormat
    header_row: int
    rows: int = Field(description="data rows read (blank rows skipped)")
    accepted: int = Field(description="accepted, late ones included")
    late: int
    duplicate: int = Field(description="rows repeating a stored report exactly (nothing written)")
    refused: int
    results: list[SheetRowResult]
