"""Hostile sheets (imports/sheets.py): refused with a 422 naming the problem before their rows are
built, with memory bounded. Memory is a test assertion here (measured in a fresh process); time
is not (speed lives in make bench)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from sanpi.office import sheets
from sanpi.office.sheets import Limits, SheetError, SheetFormat
from tests.support.registry import fields_of, problem, registry_client

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["项目名称", "所属园区", "总投资(万元)"]


def workbook(rows: list[list[Any]], edit: Callable[[bytes], bytes] = lambda xml: xml) -> bytes:
    """An XLSX written by openpyxl, its first sheet's XML passed through `edit`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def dimension_bomb() -> bytes:
    """5 KB: declares A1:XFD4000 and holds a cell in row 4000, so a reader that trusts the
    dimension builds 4,000 rows of 16,384 cells."""

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD4000"/>', xml)
        return xml.replace(
            b"</sheetData>", b'<row r="4000"><c r="A4000"><v>1</v></c></row></sheetData>'
        )

    return workbook([HEADER, ["雄韬氢能产业园", "梧桐", 1000]], edit)


def without_dimension(xml: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*" ?/>', b"", xml)


MEASURE = """
import json, resource, sys, tracemalloc
from sanpi.office import sheets
content = open(sys.argv[1], "rb").read()
fmt = sheets.SheetFormat(sys.argv[2])
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
try:
    sheet = sheets.read(content, fmt, sheets.Limits(max_rows=50_000))
    outcome = {"rows": len(sheet.rows), "widest": max((len(r) for _, r in sheet.rows), default=0)}
except sheets.SheetError as exc:
    outcome = {"refused": str(exc)}
outcome["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
outcome["rss_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024
print(json.dumps(outcome))
"""


def measured(content: bytes, tmp_path: Path, fmt: SheetFormat = SheetFormat.XLSX) -> Any:
    """sheets.read in a fresh process: its outcome, Python's peak allocation and RSS growth."""
    path = tmp_path / f"sheet.{fmt.value}"
    path.write_bytes(content)
    ran = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), fmt.value],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    return json.loads(ran.stdout)


@pytest.mark.db_independent
def test_a_5_kb_sheet_declaring_a1_xfd4000_is_refused_within_a_few_mb(tmp_path: Path) -> None:
    bomb = dimension_bomb()
    assert len(bomb) < 6_000
    outcome = measured(bomb, tmp_path)
    assert outcome["refused"].startswith("the sheet declares the range A1:XFD4000")
    assert outcome["peak_mb"] < 4, outcome
    assert outcome["rss_growth_mb"] < 32, outcome


@pytest.mark.db_independent
def test_a_sheet_without_a_dimension_is_read_no_wider_than_the_column_cap(tmp_path: Path) -> None:
    """The same cell far right in every row, and no dimension to refuse: the cells right of the
    cap are not read, and memory stays bounded."""

    def edit(xml: bytes) -> bytes:
        far = b"".join(
            b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="XFD%d"><v>1</v></c></row>' % (n, n, n, n)
            for n in range(3, 2003)
        )
        return without_dimension(xml).replace(b"</sheetData>", far + b"</sheetData>")

    outcome = measured(workbook([HEADER, ["雄韬氢能产业园", "梧桐", 1000]], edit), tmp_path)
    assert outcome["rows"] == 2001
    assert outcome["widest"] == len(HEADER)
    assert outcome["peak_mb"] < 16, outcome


@pytest.mark.db_independent
def test_a_row_numbered_a_million_is_refused_as_it_streams(tmp_path: Path) -> None:
    def edit(xml: bytes) -> bytes:
        last = b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>'
        return without_dimension(xml).replace(b"</sheetData>", last)

    outcome = measured(workbook([HEADER], edit), tmp_path)
    assert outcome["refused"] == (
        "more than 10000 blank rows (row 10002): the sheet is not a ledger"
    )
    assert outcome["peak_mb"] < 4, outcome


@pytest.mark.db_independent
def test_a_zip_bomb_is_refused_before_anything_inflates(tmp_path: Path) -> None:
    plain = workbook([HEADER])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        with target.open("xl/media/padding.bin", "w") as padding:
            for _ in range(64):
                padding.write(bytes(1024 * 1024))
    bomb = out.getvalue()
    assert len(bomb) < 200_000
    outcome = measured(bomb, tmp_path)
    assert re.fullmatch(
        r"the part xl/media/padding\.bin inflates \d+ times \(a zip bomb\); at most 100",
        outcome["refused"],
    )
    assert outcome["peak_mb"] < 4, outcome


@pytest.mark.db_independent
def test_the_row_cap_counts_rows_as_they_stream() -> None:
    rows: list[list[Any]] = [HEADER, *([f"项目{i}", "梧桐", 1000] for i in range(10))]
    with pytest.raises(SheetError, match=r"more than 3 rows \(row 5\)"):
        sheets.read(workbook(rows), SheetFormat.XLSX, Limits(max_rows=3))
    text = "\n".join(",".join(map(str, r)) for r in rows).encode()
    with pytest.raises(SheetError, match=r"more than 3 rows \(row 5\)"):
        sheets.read(text, SheetFormat.CSV, Limits(max_rows=3))


@pytest.mark.db_independent
def test_archive_and_csv_caps(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"inflates to \d+ bytes; at most 1000"):
        sheets.read(
            workbook([HEADER]), SheetFormat.XLSX, Limits(max_rows=10, max_member_bytes=1000)
        )
    commas = b"a" + b"," * (2 * 1024 * 1024)
    outcome = measured(commas, tmp_path, SheetFormat.CSV)
    assert outcome["refused"] == "a line is longer than 1048576 characters"
    assert outcome["peak_mb"] < 16, outcome


async def test_the_api_refuses_the_bomb_naming_the_file_and_parses_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = sheets.read

    def spy(*args: Any, **kwargs: Any) -> sheets.Sheet:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(sheets, "read", spy)
    async with registry_client(tmp_path) as registry:
        files = {"file": ("台账.xlsx", dimension_bomb(), "application/octet-stream")}
        response: httpx.Response = await registry.post("/v1/projects/import", files=files)
        assert response.status_code == 422
        assert fields_of(response) == ["file"]
        assert problem(response)["detail"].startswith("工作表声明的范围是 A1:XFD4000")
    assert threads
    assert threading.main_thread().name not in threads
