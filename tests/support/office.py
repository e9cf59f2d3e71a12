"""Debian's LibreOffice (headless) and poppler as a person's office suite: re-save a sheet as XLSX or
CSV, convert to PDF, render a PDF page to PNG. Each call has its own LibreOffice profile, so runs
in parallel never share one (a shared profile makes the second soffice wait, then give up)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

# LibreOffice's CSV filter options: comma, double quote, the character set, start at line 1. The
# character set is rtl_TextEncoding's number: 76 UTF-8, 67 GBK (code page 936, what Excel on a
# Chinese Windows writes; 70 is EUC-CN, GB2312 only, which turns 万㎡ into 万?).
CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76,1"
CSV_GBK = "csv:Text - txt - csv (StarCalc):44,34,67,1"
XLSX = "xlsx:Calc MS Excel 2007 XML"
PDF = "pdf:calc_pdf_Export"


def soffice() -> str:
    found = shutil.which("soffice")
    assert found is not None, "LibreOffice is not installed: run `make office`"
    return found


def convert(
    source: Path, target: str, out_dir: Path, *, infilter: str | None = None, timeout: float = 180
) -> Path:
    """`source` opened and saved by LibreOffice as `target` (a --convert-to argument) into
    `out_dir`; returns the written file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / f".lo-profile-{uuid.uuid4().hex}"
    command = [
        soffice(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        target,
        "--outdir",
        str(out_dir),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    written = out_dir / f"{source.stem}.{target.split(':')[0]}"
    assert done.returncode == 0, done.stderr
    assert written.exists(), f"LibreOffice wrote nothing: {done.stdout} {done.stderr}"
    return written


def resave(
    content: bytes, suffix: str, target: str, work: Path, *, infilter: str | None = None
) -> bytes:
    """The bytes of a file after LibreOffice opened it and saved it as `target`."""
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"in-{uuid.uuid4().hex[:8]}.{suffix}"
    source.write_bytes(content)
    return convert(source, target, work / "out", infilter=infilter).read_bytes()


def pdf_pages_to_png(pdf: Path, out_prefix: Path, *, dpi: int = 110, first: int = 1) -> list[Path]:
    """pdftoppm's PNG of each page from `first` on."""
    binary = shutil.which("pdftoppm")
    assert binary is not None, "poppler-utils is not installed: run `make office`"
    subprocess.run(
        [binary, "-r", str(dpi), "-png", "-f", str(first), str(pdf), str(out_prefix)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return sorted(out_prefix.parent.glob(f"{out_prefix.name}*.png"))


def pdf_fonts(pdf: Path) -> str:
    """pdffonts' table of the fonts a PDF uses (name, type, embedded, subset, unicode)."""
    binary = shutil.which("pdffonts")
    assert binary is not None, "poppler-utils is not installed: run `make office`"
    return subprocess.run(
        [binary, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
