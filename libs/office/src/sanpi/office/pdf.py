"""A4 PDFs people print: a Chinese font embedded (a subset, so the file stays small), tables and
a bar chart in black, white and greys that stay apart on a black-and-white printer.

reportlab lays the pages out in pure Python and embeds TrueType fonts only; the Chinese font is a
Debian package with TrueType outlines (fonts-wqy-zenhei, `make fonts-cjk`). Debian's Noto CJK is
CFF-flavoured OpenType, which reportlab cannot embed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import BaseDocTemplate

FONT = "SanpiCJK"
# Debian's CJK fonts with TrueType outlines, in order of preference (the first one found is used).
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
# Greys a black-and-white printer keeps apart: text black, rules dark, fills light.
INK = colors.black
RULE = colors.Color(0.35, 0.35, 0.35)
HEADER_FILL = colors.Color(0.85, 0.85, 0.85)
ZEBRA_FILL = colors.Color(0.95, 0.95, 0.95)
DARK_FILL = colors.Color(0.25, 0.25, 0.25)


class FontMissing(RuntimeError):
    """No Chinese TrueType font is installed (`make fonts-cjk` installs one)."""


def register_font(path: str | None = None) -> str:
    """Registers the Chinese font once; returns its name. FontMissing when none is installed."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    candidates = [(path, 0)] if path else list(FONT_CANDIDATES)
    for file, index in candidates:
        if Path(file).is_file():
            pdfmetrics.registerFont(TTFont(FONT, file, subfontIndex=index))
            return FONT
    raise FontMissing(
        "no Chinese TrueType font found ("
        + ", ".join(f for f, _ in candidates)
        + "): install fonts-wqy-zenhei (make fonts-cjk)"
    )


def styles() -> dict[str, ParagraphStyle]:
    """Title, heading, body and small text in the Chinese font, wrapping between characters."""
    font = register_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4 * mm
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=10, alignment=TA_CENTER, spaceAfter=5 * mm
        ),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=12.5, leading=18, spaceBefore=5 * mm, spaceAfter=2 * mm
        ),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=RULE),
    }


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    align_right: Sequence[int] = (),
    bold_cells: Sequence[tuple[int, int]] = (),
    dark_cells: Sequence[tuple[int, int]] = (),
) -> Table:
    """A ruled table: grey header, light zebra rows, numbers right-aligned; `dark_cells` are
    printed white on dark grey (a red mark, readable without colour)."""
    font = register_font()
    cell_style = styles()["cell"]
    # A text wider than its column wraps (a Paragraph); measured, not counted: fourteen Chinese
    # characters overflowed a column that fourteen Latin ones fit.
    data = [
        [
            Paragraph(escape(v), cell_style)  # a name's & or < is text, not markup
            if isinstance(v, str) and pdfmetrics.stringWidth(v, font, 8.5) > width - 12
            else v
            for v, width in zip(row, widths, strict=False)
        ]
        for row in rows
    ]
    shown = Table(data, colWidths=list(widths), repeatRows=header_rows)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, header_rows - 1), "CENTER"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for index in range(header_rows, len(rows)):
        if (index - header_rows) % 2 == 1:
            commands.append(("BACKGROUND", (0, index), (-1, index), ZEBRA_FILL))
    for column in align_right:
        commands.append(("ALIGN", (column, header_rows), (column, -1), "RIGHT"))
    for column, row in dark_cells:
        commands.append(("BACKGROUND", (column, row), (column, row), DARK_FILL))
        commands.append(("TEXTCOLOR", (column, row), (column, row), colors.white))
    for column, row in bold_cells:
        commands.append(("FONT", (column, row), (column, row), font, 9.5))
    shown.setStyle(TableStyle(commands))
    return shown


def bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: float,
    height: float,
    unit: str,
    title: str,
) -> Drawing:
    """Grouped bars (one group per category), each series a grey of its own with a black
    outline, values printed on the bars, a legend below: legible in black and white."""
    font = register_font()
    drawing = Drawing(width, height)
    # The renderer's first font: Helvetica (never embedded) otherwise.
    drawing.initialFontName = font  # type: ignore[attr-defined]
    chart = VerticalBarChart()
    chart.x, chart.y = 36, 42
    chart.width, chart.height = int(width - 56), int(height - 72)
    chart.data = [list(values) for _, values in series]
    chart.categoryAxis.categoryNames = list(categories)
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 9
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    top = max((v for _, values in series for v in values), default=0.0)
    chart.valueAxis.valueMax = max(10.0, top * 1.2)
    chart.valueAxis.labelTextFormat = "%d" + unit.replace("%", "%%")
    chart.barSpacing = 2
    chart.groupSpacing = 12
    fills = [DARK_FILL, colors.white, HEADER_FILL]
    for index in range(len(series)):
        chart.bars[index].fillColor = fills[index % len(fills)]
        chart.bars[index].strokeColor = INK
        chart.bars[index].strokeWidth = 0.6
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    drawing.add(chart)
    legend = Legend()
    legend.fontName = font
    legend.fontSize = 8
    legend.x, legend.y = 36, 14
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 90
    legend.colorNamePairs = [(fills[i % len(fills)], label) for i, (label, _) in enumerate(series)]
    legend.strokeColor = INK
    drawing.add(legend)
    drawing.add(
        String(width / 2, height - 14, title, fontName=font, fontSize=10, textAnchor="middle")
    )
    return drawing


def heading_with(
    heading: Paragraph, following: Flowable, *, width: float, rows: int = 2
) -> list[Flowable]:
    """A heading kept with the start of what follows it: a page break comes first unless the
    heading and a table's header with its first `rows` rows (or the whole of anything else) fit
    on this page, so that no heading is left alone at a page's foot. Unlike reportlab's
    keepWithNext, a long table still starts under its heading and breaks across pages."""
    style = heading.style
    needed = style.spaceBefore + heading.wrap(width, 1e6)[1] + style.spaceAfter
    if isinstance(following, Table):
        following.wrap(width, 1e6)
        heights: list[float] = getattr(following, "_rowHeights")  # noqa: B009 - not in the stubs
        needed += sum(heights[: following.repeatRows + rows])
    else:
        needed += following.wrap(width, 1e6)[1]
    return [CondPageBreak(needed), heading, following]


def render(story: Sequence[Flowable], *, title: str, author: str, footer: str) -> bytes:
    """The flowables on A4 pages (margins 18 mm), page numbers and `footer` at the bottom of
    each page; the document's metadata carries the title."""
    font = register_font()
    buffer = io.BytesIO()

    def decorate(canvas: Any, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(RULE)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        creator="sanpi",
        initialFontName=font,
        invariant=True,
    )
    document.build(list(story), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


CONTENT_WIDTH = A4[0] - 36 * mm
