"""Sheets in and out: what a file is (CSV, XLSX, or a format named and refused), its header found
by its names below any title rows, its rows as cell values; and CSV/XLSX writing where no cell
ever becomes a formula.

Every service that takes a sheet reads it here (the registry's ledger, the milestone's 旬报), so a
hostile file meets one reader, bounded before any row is built: a 5 KB XLSX that declares
`A1:XFD4000` made openpyxl build 4,000 rows of 16,384 cells (1 GiB). `read` refuses, with a
SheetError naming the problem:
- an archive whose members would inflate past `Limits` (per member, in total, or at a ratio of a
  zip bomb), checked on the ZIP directory before anything is decompressed (zipfile never
  inflates a member past the size its directory declares);
- a declared dimension beyond the column or row caps;
- while rows stream: more data rows than the cap, more blank rows than the cap (a row numbered
  1,048,576 makes a million empty ones), a CSV line longer than a row can need.
Cells right of `max_columns` are not read (no column of ours lives there). The caller runs it in
a thread: parsing a big sheet is seconds of CPU."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._write_only import WriteOnlyWorksheet


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    SheetFormat.CSV: "text/csv; charset=utf-8",
    SheetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class SheetError(ValueError):
    """The file cannot be read as a sheet at all; says why in Chinese and in English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


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
    # Title, unit and note rows above a header: a handful in every template seen; 20 is generous.
    max_title_rows: int = 20


@dataclass(frozen=True)
class Sheet:
    header_row: int  # the spreadsheet row number of the header (1 when there is no title)
    headers: list[str]
    # The rows below the header that hold something, each with its spreadsheet row number.
    rows: list[tuple[int, list[Any]]]


# --- what the file is ----------------------------------------------------------------------------

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An encrypted XLSX (a password to open) is an OLE2 file holding these streams (MS-OFFCRYPTO).
_ENCRYPTED_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_SAVE_AS = (
    "请在 Excel 或 WPS 中“另存为” .xlsx 或 .csv 后再导入",
    "save it as .xlsx or .csv and import that",
)
# Formats named by their file name alone (the bytes may be anything).
_REFUSED_NAMES: dict[str, tuple[str, str]] = {
    ".xls": ("Excel 97-2003 工作簿（.xls）", "an Excel 97-2003 workbook (.xls)"),
    ".xlsm": ("含宏的工作簿（.xlsm）", "a macro-enabled workbook (.xlsm)"),
    ".xlsb": ("Excel 二进制工作簿（.xlsb）", "an Excel binary workbook (.xlsb)"),
    ".ods": ("OpenDocument 电子表格（.ods）", "an OpenDocument spreadsheet (.ods)"),
    ".et": ("WPS 表格文件（.et）", "a WPS spreadsheet (.et)"),
    ".numbers": ("Numbers 文件（.numbers）", "a Numbers file (.numbers)"),
}


def _refused(kind: tuple[str, str]) -> SheetError:
    return SheetError(
        f"不能导入{kind[0]}：{_SAVE_AS[0]}", f"cannot import {kind[1]}: {_SAVE_AS[1]}"
    )


def detect(filename: str | None, content: bytes) -> SheetFormat:
    """CSV or XLSX, from the bytes first and the file name second; any other format (.xls,
    .xlsm, encrypted workbooks, .ods…) is a SheetError naming it."""
    name = (filename or "").lower()
    if content.startswith(OLE2_MAGIC):
        if any(stream in content for stream in _ENCRYPTED_STREAMS):
            raise SheetError(
                "不能导入加密（设置了打开密码）的工作簿：请取消密码后另存为 .xlsx 再导入",
                "cannot import an encrypted (password-protected) workbook: remove the password "
                "and save it as .xlsx",
            )
        raise _refused(_REFUSED_NAMES[".xls"])
    if content.startswith(ZIP_MAGIC):
        _check_package(content)
        return SheetFormat.XLSX
    for suffix, kind in _REFUSED_NAMES.items():
        if name.endswith(suffix):
            raise _refused(kind)
    if name.endswith(".xlsx"):
        raise SheetError(
            "文件不是 XLSX 工作簿（内容不是 ZIP 包）",
            "the file is not an XLSX workbook (its bytes are not a ZIP package)",
        )
    return SheetFormat.CSV


def _check_package(content: bytes) -> None:
    """A ZIP that is an XLSX workbook, not a macro workbook or another office package."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except zipfile.BadZipFile as exc:
        raise SheetError(
            "文件不是 XLSX 工作簿（ZIP 包已损坏）",
            f"the file is not an XLSX workbook ({type(exc).__name__})",
        ) from exc
    if "xl/vbaProject.bin" in names:
        raise _refused(_REFUSED_NAMES[".xlsm"])
    if "xl/workbook.bin" in names:
        raise _refused(_REFUSED_NAMES[".xlsb"])
    if "mimetype" in names and "content.xml" in names:
        raise _refused(_REFUSED_NAMES[".ods"])
    if "xl/workbook.xml" not in names:
        raise SheetError(
            "文件是 ZIP 包但不是 XLSX 工作簿", "the file is a ZIP package but not an XLSX workbook"
        )


# --- reading ---------------------------------------------------------------------------------------


def filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def read(
    content: bytes,
    fmt: SheetFormat,
    limits: Limits,
    *,
    is_column: Callable[[str], bool] | None = None,
) -> Sheet:
    """The header and the non-blank rows below it. With `is_column` (does a header text name a
    known column?), the header is the first row naming at least two known columns, within the
    first `limits.max_title_rows` rows (title rows above it are skipped); without, the first
    non-blank row. Synchronous and CPU-bound: call it in a thread."""
    if content.startswith(OLE2_MAGIC):
        detect(None, content)  # raises, naming the format
    if fmt is SheetFormat.XLSX:
        _check_package(content)
    lines = _counting_blanks(stream_rows(content, fmt, limits), limits)
    header_row, headers = _find_header(lines, limits, is_column)
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in lines:
        if cells is None:
            continue
        if len(rows) == limits.max_rows:
            raise SheetError(
                f"数据超过 {limits.max_rows} 行（第 {number} 行）：请拆分后分批导入",
                f"more than {limits.max_rows} rows (row {number}); an import takes at most "
                f"{limits.max_rows}: split the sheet",
            )
        row = list(cells)
        while row and row[-1] is None:
            row.pop()
        rows.append((number, row + [None] * (len(headers) - len(row))))
    return Sheet(header_row, headers, rows)


def _counting_blanks(
    lines: Iterator[tuple[int, Sequence[Any]]], limits: Limits
) -> Iterator[tuple[int, Sequence[Any] | None]]:
    """The rows, a blank one as None, refused once more than `max_blank_rows` were blank."""
    blank = 0
    for number, cells in lines:
        if any(filled(c) for c in cells):
            yield number, cells
            continue
        blank += 1
        if blank > limits.max_blank_rows:
            raise SheetError(
                f"空行超过 {limits.max_blank_rows} 行（第 {number} 行）：这不是一张台账",
                f"more than {limits.max_blank_rows} blank rows (row {number}): "
                "the sheet is not a ledger",
            )
        yield number, None


def _texts(cells: Sequence[Any]) -> list[str]:
    headers = ["" if c is None else str(c).strip().lstrip("\ufeff").strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _find_header(
    lines: Iterator[tuple[int, Sequence[Any] | None]],
    limits: Limits,
    is_column: Callable[[str], bool] | None,
) -> tuple[int, list[str]]:
    seen = 0
    for number, cells in lines:
        if cells is None:
            continue
        texts = _texts(cells)
        if is_column is None or sum(1 for t in texts if t and is_column(t)) >= 2:
            return number, texts
        seen += 1
        if seen >= limits.max_title_rows:
            break
    if seen == 0:
        raise SheetError("文件是空的：没有表头行", "the file is empty: no header row")
    raise SheetError(
        f"前 {limits.max_title_rows} 行中找不到表头（至少两个认识的列名，如 项目名称、所属园区）",
        f"no header row in the first {limits.max_title_rows} rows (a row naming at least two "
        "known columns)",
    )


def stream_rows(
    content: bytes, fmt: SheetFormat, limits: Limits
) -> Iterator[tuple[int, Sequence[Any]]]:
    """Every row of the first sheet with its spreadsheet row number, as it streams from the file
    (no more than `limits.max_columns` cells a row)."""
    if fmt is SheetFormat.XLSX:
        return _xlsx_rows(content, limits)
    return _csv_rows(content, limits)


# A cell our CSV export protected from formula evaluation ('=…): the quote is ours, not the data's.
_PROTECTED = re.compile(r"^'[=+\-@\t\r]")


def decode_csv(content: bytes) -> str:
    """The CSV's text: UTF-8 (with or without the BOM Excel writes) or GBK/GB18030, as Excel on
    a Chinese Windows saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise SheetError(
            "CSV 既不是 UTF-8 也不是 GBK 文本", "the CSV is neither UTF-8 nor GBK text"
        )
    if "\x00" in text:
        raise SheetError(
            "文件不是 CSV 文本文件（含有 NUL 字节）",
            "the file is not a CSV text file (it holds NUL bytes)",
        )
    return text


def _csv_rows(content: bytes, limits: Limits) -> Iterator[tuple[int, Sequence[Any]]]:
    text = decode_csv(content)
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > limits.max_csv_line_bytes:
        # csv would build one list of all its fields (a line of commas: millions).
        raise SheetError(
            f"有一行超过 {limits.max_csv_line_bytes} 个字符",
            f"a line is longer than {limits.max_csv_line_bytes} characters",
        )
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield number, [c[1:] if _PROTECTED.match(c) else c for c in row[: limits.max_columns]]
    except csv.Error as exc:
        raise SheetError(f"CSV 无法解析：{exc}", f"the CSV cannot be parsed: {exc}") from exc


def check_archive(content: bytes, limits: Limits) -> None:
    """Refuses an XLSX whose ZIP directory promises more than `limits` once inflated."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except zipfile.BadZipFile as exc:
        raise SheetError(
            "文件不是 XLSX 工作簿（ZIP 包已损坏）",
            f"the file is not an XLSX workbook ({type(exc).__name__})",
        ) from exc
    if len(members) > limits.max_members:
        raise SheetError(
            f"工作簿有 {len(members)} 个部件，最多 {limits.max_members} 个",
            f"the workbook has {len(members)} parts; at most {limits.max_members}",
        )
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > limits.max_member_bytes:
            raise SheetError(
                f"部件 {member.filename} 解压后 {size} 字节，最多 {limits.max_member_bytes}",
                f"the part {member.filename} inflates to {size} bytes; "
                f"at most {limits.max_member_bytes}",
            )
        ratio = size / max(member.compress_size, 1)
        if size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise SheetError(
                f"部件 {member.filename} 解压后膨胀 {ratio:.0f} 倍（疑似压缩炸弹），"
                f"最多 {limits.max_ratio:.0f} 倍",
                f"the part {member.filename} inflates {ratio:.0f} times (a zip bomb); "
                f"at most {limits.max_ratio:.0f}",
            )
    if total > limits.max_total_bytes:
        raise SheetError(
            f"工作簿解压后 {total} 字节，最多 {limits.max_total_bytes}",
            f"the workbook inflates to {total} bytes; at most {limits.max_total_bytes}",
        )


def _xlsx_rows(content: bytes, limits: Limits) -> Iterator[tuple[int, Sequence[Any]]]:
    check_archive(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SheetError(
            "文件不是可读的 XLSX 工作簿", f"the file is not an XLSX workbook ({type(exc).__name__})"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        if not isinstance(sheet, ReadOnlyWorksheet):
            raise SheetError(
                "工作簿的第一张表不是工作表", "the first sheet of the workbook is not a worksheet"
            )
        columns, rows = sheet.max_column or 0, sheet.max_row or 0
        most = 1 + limits.max_title_rows + limits.max_rows + limits.max_blank_rows
        if columns > limits.max_columns or rows > most:
            raise SheetError(
                f"工作表声明的范围是 {sheet.calculate_dimension()}（{rows} 行，{columns} 列）；"
                f"一张表最多 {limits.max_rows} 行数据、{limits.max_columns} 列",
                f"the sheet declares the range {sheet.calculate_dimension()} "
                f"({rows} rows, {columns} columns); a ledger has at most {limits.max_rows} rows "
                f"and {limits.max_columns} columns",
            )
        # The declared range is not trusted further: rows stream as they are, cut at the cap.
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=limits.max_columns), start=1)
    finally:
        workbook.close()


# --- writing ---------------------------------------------------------------------------------------

# A cell starting with one of these is a formula (or becomes one) in Excel, WPS and LibreOffice:
# written as text, never evaluated (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> str:
    """A value as a CSV field: dates in ISO form, a formula-like text behind a quote ('=…)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = str(value)
    return "'" + text if formula_like(text) else text


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    """A write-only cell; a formula-like text is stored as a string with Excel's quote prefix
    (shown as text, and still text after an edit)."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd"
    if formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then opens the Chinese intact), formula-like cells protected."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([csv_text(h) for h in headers])
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str) -> bytes:
    """One plain sheet: the header, then the rows (formula-like cells as text)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append([xlsx_cell(sheet, h) for h in headers])
    for row in rows:
        sheet.append([xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: SheetFormat, *, title: str
) -> bytes:
    if fmt is SheetFormat.XLSX:
        return write_xlsx(headers, rows, title=title)
    return write_csv(headers, rows)
