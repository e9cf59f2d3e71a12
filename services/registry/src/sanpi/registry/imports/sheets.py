"""Reading and writing sheets (CSV, XLSX) as header + rows of cell values; no ledger rules here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    SheetFormat.CSV: "text/csv; charset=utf-8",
    SheetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class SheetError(ValueError):
    """The file cannot be read as a sheet at all."""


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[list[Any]]  # data rows; rows[i] is spreadsheet row i + 2 (row 1 is the header)


def detect(filename: str | None, content: bytes) -> SheetFormat:
    """From the file name, else from the bytes (an XLSX is a ZIP: it starts with PK)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return SheetFormat.XLSX
    if name.endswith(".csv"):
        return SheetFormat.CSV
    return SheetFormat.XLSX if content.startswith(b"PK\x03\x04") else SheetFormat.CSV


def read(content: bytes, fmt: SheetFormat) -> Sheet:
    cells = _read_xlsx(content) if fmt is SheetFormat.XLSX else _read_csv(content)
    if not cells:
        raise SheetError("the file is empty: no header row")
    headers = ["" if h is None else str(h).strip() for h in cells[0]]
    while headers and not headers[-1]:
        headers.pop()
    rows = [list(r) + [None] * (len(headers) - len(r)) for r in cells[1:]]
    return Sheet(headers, rows)


def _read_csv(content: bytes) -> list[list[Any]]:
    # Excel on a Chinese Windows saves "CSV" in GBK; everything else (and our export) is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise SheetError("the CSV is neither UTF-8 nor GB18030 text")
    if "\x00" in text:
        raise SheetError("the file is not a CSV text file (it holds NUL bytes)")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise SheetError(f"the CSV cannot be parsed: {exc}") from exc


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"the file is not an XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def write(headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: SheetFormat) -> bytes:
    if fmt is SheetFormat.XLSX:
        return _write_xlsx(headers, rows)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row]
        )
    # The BOM makes Excel open a UTF-8 CSV with its Chinese intact.
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("项目台账")
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
