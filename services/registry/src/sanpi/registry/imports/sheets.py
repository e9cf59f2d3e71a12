"""Reading and writing sheets (CSV, XLSX) as header + rows of cell values; no ledger rules here.

Reading is bounded before any row is built, because a sheet is hostile input: a 5 KB XLSX that
declares `A1:XFD4000` made openpyxl build 4,000 rows of 16,384 cells (1 GiB). `read` refuses,
with a SheetError naming the problem:
- an archive whose members would inflate past `Limits` (per member, in total, or at a ratio of a
  zip bomb), checked on the ZIP directory before anything is decompressed (zipfile never
  inflates a member past the size its directory declares);
- a declared dimension beyond the column or row caps;
- while rows stream: more data rows than the cap, more blank rows than the cap (a row numbered
  1,048,576 makes a million empty ones), a CSV line longer than a row can need.
Cells right of `max_columns` are not read (no ledger column lives there). The caller runs it in
a thread: parsing a big sheet is seconds of CPU."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet


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
class Limits:
    """What a sheet may hold and cost; the defaults fit the largest real ledger many times."""

    max_rows: int  # data rows (blank rows are not counted here)
    # The ledger has 40-odd columns; any more are not read.
    max_columns: int = 100
    max_blank_rows: int = 10_000
    # A 50,000-row ledger is ~80 MB of sheet XML: its members stay well below these.
    max_member_bytes: int = 128 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_members: int = 1_000
    # Sheet XML deflates 5-20x; a zip bomb, 1,000x and more. Small members may do as they like.
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024
    max_csv_line_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    # The rows that hold something, with their spreadsheet row number (the header is row 1).
    rows: list[tuple[int, list[Any]]]


def detect(filename: str | None, content: bytes) -> SheetFormat:
    """From the file name, else from the bytes (an XLSX is a ZIP: it starts with PK)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return SheetFormat.XLSX
    if name.endswith(".csv"):
        return SheetFormat.CSV
    return SheetFormat.XLSX if content.startswith(b"PK\x03\x04") else SheetFormat.CSV


def read(content: bytes, fmt: SheetFormat, limits: Limits) -> Sheet:
    """The header and the non-blank rows of the first sheet, within `limits` (SheetError else)."""
    lines = _xlsx_rows(content, limits) if fmt is SheetFormat.XLSX else _csv_rows(content, limits)
    first = next(lines, None)
    if first is None:
        raise SheetError("the file is empty: no header row")
    headers = ["" if h is None else str(h).strip() for h in first]
    while headers and not headers[-1]:
        headers.pop()
    rows: list[tuple[int, list[Any]]] = []
    blank = 0
    for number, cells in enumerate(lines, start=2):
        if not any(_filled(c) for c in cells):
            blank += 1
            if blank > limits.max_blank_rows:
                raise SheetError(
                    f"more than {limits.max_blank_rows} blank rows (row {number}): "
                    "the sheet is not a ledger"
                )
            continue
        if len(rows) == limits.max_rows:
            raise SheetError(
                f"more than {limits.max_rows} rows (row {number}); an import takes at most "
                f"{limits.max_rows}: split the sheet"
            )
        row = list(cells)
        while row and row[-1] is None:
            row.pop()
        rows.append((number, row + [None] * (len(headers) - len(row))))
    return Sheet(headers, rows)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _csv_rows(content: bytes, limits: Limits) -> Iterator[Sequence[Any]]:
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
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > limits.max_csv_line_bytes:
        # csv would build one list of all its fields (a line of commas: millions).
        raise SheetError(f"a line is longer than {limits.max_csv_line_bytes} characters")
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            yield row[: limits.max_columns]
    except csv.Error as exc:
        raise SheetError(f"the CSV cannot be parsed: {exc}") from exc


def check_archive(content: bytes, limits: Limits) -> None:
    """Refuses an XLSX whose ZIP directory promises more than `limits` once inflated."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except zipfile.BadZipFile as exc:
        raise SheetError(f"the file is not an XLSX workbook ({type(exc).__name__})") from exc
    if len(members) > limits.max_members:
        raise SheetError(f"the workbook has {len(members)} parts; at most {limits.max_members}")
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > limits.max_member_bytes:
            raise SheetError(
                f"the part {member.filename} inflates to {size} bytes; "
                f"at most {limits.max_member_bytes}"
            )
        ratio = size / max(member.compress_size, 1)
        if size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise SheetError(
                f"the part {member.filename} inflates {ratio:.0f} times (a zip bomb); "
                f"at most {limits.max_ratio:.0f}"
            )
    if total > limits.max_total_bytes:
        raise SheetError(
            f"the workbook inflates to {total} bytes; at most {limits.max_total_bytes}"
        )


def _xlsx_rows(content: bytes, limits: Limits) -> Iterator[Sequence[Any]]:
    check_archive(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"the file is not an XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        if not isinstance(sheet, ReadOnlyWorksheet):
            raise SheetError("the first sheet of the workbook is not a worksheet")
        columns, rows = sheet.max_column or 0, sheet.max_row or 0
        if columns > limits.max_columns or rows > 1 + limits.max_rows + limits.max_blank_rows:
            raise SheetError(
                f"the sheet declares the range {sheet.calculate_dimension()} "
                f"({rows} rows, {columns} columns); a ledger has at most {limits.max_rows} rows "
                f"and {limits.max_columns} columns"
            )
        # The declared range is not trusted further: rows stream as they are, cut at the cap.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True, max_col=limits.max_columns)
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
