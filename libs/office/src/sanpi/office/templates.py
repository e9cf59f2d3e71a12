"""Workbooks people fill in: a title, a note row saying each column's unit and format, the header,
dropdowns for coded columns, the header frozen and columns as wide as their content.

The same layout serves an empty template and an export meant to be edited and imported again:
the reader skips the title and note rows (they sit above the header) and finds the header by its
names."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from sanpi.office.sheets import xlsx_cell


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"  # a whole number ≥ 0 (万元, 人)
    NUMBER = "number"  # a number ≥ 0 (形象进度 %)
    DATE = "date"


@dataclass(frozen=True)
class Field:
    """One column of a workbook people fill in."""

    header: str
    note: str = ""  # unit and format, shown above the header
    kind: Kind = Kind.TEXT
    choices: Sequence[str] = ()  # a dropdown of these (the cell may stay empty)
    read_only: bool = False  # shown for reference (greyed), ignored on import
    required: bool = False  # marked * in the header note
    max_value: float | None = None


TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = HEADER_ROW + 1
# Dropdowns and number checks reach this many rows below the data, for rows people add.
SPARE_ROWS = 500
MAX_WIDTH = 48
SAMPLE_ROWS = 200

_THIN = Side(style="thin", color="FF808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# Printed in black and white the header stays readable: light grey, black bold text.
_HEADER_FILL = PatternFill("solid", fgColor="FFD9D9D9")
_READ_ONLY_FILL = PatternFill("solid", fgColor="FFF2F2F2")


def display_width(value: Any) -> int:
    """How many columns of a monospaced grid a value takes: a Chinese character two."""
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return 10
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def workbook(
    *,
    sheet: str,
    title: str,
    fields: Sequence[Field],
    rows: Iterable[Sequence[Any]],
    lists_sheet: str = "选项",
    spare_rows: int = SPARE_ROWS,
) -> bytes:
    """The XLSX: title (row 1), notes (row 2), header (row 3, frozen), then `rows`; dropdowns and
    number checks on the data rows and `spare_rows` more."""
    book = Workbook(write_only=True)
    data = book.create_sheet(sheet)
    lists = book.create_sheet(lists_sheet)
    widths = [max(display_width(f.header) + 2, 8) for f in fields]
    for index, f in enumerate(fields):
        note_width = max((display_width(part) for part in f.note.split("\n")), default=0)
        widths[index] = max(widths[index], min(note_width, 24) + 2)
        widths[index] = max(widths[index], *(display_width(c) + 4 for c in f.choices), 0)
    data.freeze_panes = f"A{FIRST_DATA_ROW}"
    data.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    data.page_setup.orientation = "landscape"
    data.page_setup.paperSize = "9"  # A4
    data.sheet_properties.pageSetUpPr.fitToPage = True
    data.page_setup.fitToWidth = 1
    data.page_setup.fitToHeight = 0
    last = get_column_letter(max(len(fields), 1))
    data.merged_cells.add(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    data.row_dimensions[TITLE_ROW].height = 24
    data.row_dimensions[NOTE_ROW].height = 48
    data.row_dimensions[HEADER_ROW].height = 20

    # The rows are written as they come (an export may be 50,000 rows): widths are measured on
    # the first rows only, and must be set before the first row is written.
    rows = iter(rows)
    sample: list[Sequence[Any]] = []
    for row in rows:
        sample.append(row)
        if len(sample) == SAMPLE_ROWS:
            break
    for row in sample:
        for index, value in enumerate(row[: len(fields)]):
            widths[index] = max(widths[index], min(display_width(value) + 2, MAX_WIDTH))
    for index, width in enumerate(widths, start=1):
        data.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)

    data.append([xlsx_cell(data, title, font=Font(bold=True, size=14))])
    data.append(
        [
            xlsx_cell(
                data,
                ("*必填 " if f.required else "") + f.note if (f.note or f.required) else None,
                font=Font(size=9, italic=True, color="FF404040"),
                alignment=Alignment(wrap_text=True, vertical="top"),
            )
            for f in fields
        ]
    )
    data.append(
        [
            xlsx_cell(
                data,
                f.header,
                font=Font(bold=True),
                fill=_HEADER_FILL,
                border=_BOX,
                alignment=Alignment(horizontal="center", vertical="center"),
            )
            for f in fields
        ]
    )
    count = 0
    for row in itertools.chain(sample, rows):
        data.append(
            [
                xlsx_cell(data, value, fill=_READ_ONLY_FILL)
                if f.read_only
                else xlsx_cell(data, value)
                for f, value in zip(fields, row, strict=False)
            ]
        )
        count += 1

    end = HEADER_ROW + count + spare_rows
    column = 0
    for index, f in enumerate(fields, start=1):
        letter = get_column_letter(index)
        target = f"{letter}{FIRST_DATA_ROW}:{letter}{end}"
        if f.read_only:
            continue
        if f.choices:
            column += 1
            list_letter = get_column_letter(column)
            source = f"{quote_sheetname(lists_sheet)}!${list_letter}$2:${list_letter}${1 + len(f.choices)}"
            rule = DataValidation(type="list", formula1=source, allow_blank=True)
            rule.error = f"请从下拉列表中选择「{f.header}」"
            rule.errorTitle = f.header
            rule.prompt = f.note or f"从列表中选择{f.header}"
            rule.promptTitle = f.header
            rule.showErrorMessage = True
            rule.showInputMessage = True
        elif f.kind in (Kind.INT, Kind.NUMBER):
            rule = DataValidation(
                type="whole" if f.kind is Kind.INT else "decimal",
                operator="between" if f.max_value is not None else "greaterThanOrEqual",
                formula1="0",
                formula2=None if f.max_value is None else str(f.max_value),
                allow_blank=True,
            )
            rule.error = f"「{f.header}」{_number_rule(f)}"
            rule.errorTitle = f.header
            rule.showErrorMessage = True
        elif f.kind is Kind.DATE:
            rule = DataValidation(
                type="date", operator="greaterThan", formula1="36526", allow_blank=True
            )  # after 2000-01-01 (Excel's serial day 36526)
            rule.error = f"「{f.header}」应为日期，如 2023-03-01"
            rule.errorTitle = f.header
            rule.showErrorMessage = True
        else:
            continue
        rule.add(target)
        data.data_validations.append(rule)
    _write_lists(lists, [f for f in fields if f.choices and not f.read_only])
    lists.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number_rule(f: Field) -> str:
    unit = "整数" if f.kind is Kind.INT else "数字"
    if f.max_value is not None:
        return f"应为 0 到 {f.max_value:g} 之间的{unit}"
    return f"应为不小于 0 的{unit}"


def _write_lists(sheet: Any, fields: Sequence[Field]) -> None:
    """Each dropdown's values down one column of the hidden lists sheet (row 1 names it)."""
    depth = max((len(f.choices) for f in fields), default=0)
    sheet.append([f.header for f in fields])
    for n in range(depth):
        sheet.append([f.choices[n] if n < len(f.choices) else None for f in fields])
