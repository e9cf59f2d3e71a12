"""The bulletin as the files leaders receive: an XLSX (one sheet per section and a chart) and an
A4 PDF (Chinese font embedded, printable in black and white)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer

from sanpi.milestone.bulletins.schemas import Bulletin
from sanpi.office import pdf
from sanpi.office.sheets import formula_like
from sanpi.office.templates import display_width

# 序时进度 has one meaning (docs/domain.md#time-progress): the share of the year gone by. What the
# projects' plans split by month or 旬 ask by a day is another figure, printed under this name
# (the bulletin used to call both 序时进度, 21.6 % in its summary and 19.5 % in a park's row).
PLAN_DUE = "计划应完成"


def _yi(wan: int) -> float:
    return round(wan / 10_000, 2)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _pts(value: float | None) -> str:
    # + 0.0 turns a gap rounded to -0.0 (21.61 % against 21.64 %) into 0.0: "-0.0" read as behind.
    return "—" if value is None else f"{round(value, 1) + 0.0:+.1f}"


def subtitle(b: Bulletin) -> str:
    text = (
        f"{b.period_label}（{b.start:%Y-%m-%d} 至 {b.end:%Y-%m-%d}），数据截至 {b.as_of:%Y-%m-%d}"
    )
    return text + ("（本期尚未结束，为阶段数据）" if b.provisional else "")


DEMO_TAG = "【演示数据】"
DEMO_NOTE = (
    "本通报由演示数据生成：项目进度与预警为程序模拟，所列真实企业和项目的进度不代表其实际情况。"
)


def title(b: Bulletin) -> str:
    """The title as printed: 【演示数据】 first when the service holds the demo, so that a page
    shown on its own never passes for a real bulletin about real companies."""
    return (DEMO_TAG if b.demo else "") + b.title


def _share(share: float) -> str:
    return f"{share * 100:.0f}%"


def legend(b: Bulletin) -> str:
    """The park marks' rule, printed under the ranking (docs/domain.md#colours)."""
    s = _share(b.light_share)
    return (
        f"标识：红 = 园区内至少 {s} 的项目为红色预警；黄 = 园区内有红色预警项目（不足 {s}），"
        f"或至少 {s} 的项目为黄色、橙色或红色预警；绿 = 无红色预警项目，且黄色、橙色不足 {s}。"
    )


def summary(b: Bulletin) -> str:
    inv = b.district.investment
    red_parks = [p.park for p in b.parks if p.mark == "red"]
    parts = [
        f"截至 {b.as_of.year}年{b.as_of.month}月{b.as_of.day}日，全区序时进度 {b.district.time_progress_pct:.1f}%",
        f"列入调度的项目年度计划投资 {_yi(inv.annual_plan)} 亿元，已完成 {_yi(inv.completed_ytd)} 亿元"
        f"（{_pct(inv.completion_pct)}，{PLAN_DUE} {_pct(inv.expected_pct)}，"
        f"{'超出' if (inv.gap_pts or 0) >= 0 else '落后'} {abs(inv.gap_pts or 0):.1f} 个百分点）",
        f"红色预警项目 {len(b.red_projects)} 个",
        f"本期新开工 {len(b.started)} 个、新投产 {len(b.produced)} 个",
    ]
    if red_parks:
        parts.append(f"亮红灯的园区：{'、'.join(red_parks)}")
    return "；".join(parts) + "。"


# --- the sections as rows (both files print the same tables) -----------------------------------------


def target_rows(b: Bulletin) -> list[list[Any]]:
    """The district's annual targets against 序时进度 (the share of the year gone by)."""
    rows: list[list[Any]] = [["指标", "年度目标", "已完成", "完成率", "序时进度", "差距(百分点)"]]
    for t in b.district.targets:
        rows.append(
            [
                t.label,
                f"{t.target:g} {t.unit}",
                f"{t.actual:g} {t.unit}",
                _pct(t.attainment_pct),
                _pct(t.time_progress_pct),
                _pts(t.gap_pts),
            ]
        )
    return rows


def investment_rows(b: Bulletin) -> list[list[Any]]:
    """The projects' annual plans against what their monthly (旬) split asks by now: a row of
    its own, under its own heading, not in the 序时进度 column of the targets."""
    inv = b.district.investment
    return [
        ["指标", "年度计划", "已完成", "完成率", PLAN_DUE, "差距(百分点)"],
        [
            "年度计划投资完成",
            f"{_yi(inv.annual_plan):g} 亿元",
            f"{_yi(inv.completed_ytd):g} 亿元",
            _pct(inv.completion_pct),
            _pct(inv.expected_pct),
            _pts(inv.gap_pts),
        ],
    ]


def rate_rows(b: Bulletin) -> list[list[Any]]:
    rows: list[list[Any]] = [["本年批次 / 转化率", "个数", "金额(亿元) / 比率"]]
    for x in b.district.batches:
        rows.append([x.label, x.count, f"{x.amount_yi:g}"])
    for r in b.district.rates:
        rows.append([r.label, f"{r.numerator}/{r.denominator}", _pct(r.pct)])
    return rows


def park_rows(b: Bulletin) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            "排名",
            "园区",
            "标识",
            "项目数",
            "红色",
            "黄色",
            "年度计划(亿元)",
            "已完成(亿元)",
            "完成率",
            PLAN_DUE,
            "差距",
        ]
    ]
    for p in b.parks:
        inv = p.investment
        rows.append(
            [
                p.rank,
                p.park,
                p.mark_zh,
                p.projects,
                p.red,
                p.yellow,
                f"{_yi(inv.annual_plan):g}",
                f"{_yi(inv.completed_ytd):g}",
                _pct(inv.completion_pct),
                _pct(inv.expected_pct),
                _pts(inv.gap_pts),
            ]
        )
    return rows


def red_rows(b: Bulletin) -> list[list[Any]]:
    rows: list[list[Any]] = [["序号", "项目名称", "园区", "责任单位", "预警规则", "情况"]]
    for n, r in enumerate(b.red_projects, start=1):
        rows.append(
            [
                n,
                r.name,
                r.park,
                r.responsible_unit or "—",
                "；".join(f"{h.rule} {h.title}" for h in r.rules),
                "；".join(h.message for h in r.rules if h.message) or "—",
            ]
        )
    return rows


def news_rows(title: str, items: Sequence[Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["序号", "项目名称", "园区", f"{title}日期", "总投资(亿元)"]]
    for n, x in enumerate(items, start=1):
        rows.append([n, x.name, x.park, x.day.isoformat(), f"{_yi(x.total_investment):g}"])
    return rows


def chart_series(b: Bulletin) -> tuple[list[str], list[tuple[str, list[float]]]]:
    names = [p.park for p in b.parks]
    done = [p.investment.completion_pct or 0.0 for p in b.parks]
    due = [p.investment.expected_pct or 0.0 for p in b.parks]
    return names, [("完成率", done), (PLAN_DUE, due)]


# --- XLSX -------------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_THIN = Side(style="thin", color="FF808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_GREY = PatternFill("solid", fgColor="FFD9D9D9")
_MARK_FILLS = {"红": "FFFF9999", "黄": "FFFFE699", "绿": "FFC6EFCE"}


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> Any:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if formula_like(value):  # a project name is data, never a formula
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


# Column widths in characters (a Chinese character two): each column as wide as its widest cell
# in any of the tables, between these bounds; a cell wider than the most wraps and its row grows.
_NARROWEST, _WIDEST = 6, 48
# Points a line of the sheet's 11-point text takes (a row's default height).
_LINE_PT = 15.0


@dataclass
class _Tables:
    """The tables written on the sheet, (first row, rows) each, to fit the columns to at the end."""

    blocks: list[tuple[int, list[list[Any]]]] = field(default_factory=list)

    def widths(self) -> dict[int, int]:
        widest: dict[int, int] = {}
        for _top, rows in self.blocks:
            for values in rows:
                for c, value in enumerate(values, start=1):
                    # +2: the cell's padding and border, so that a cell as wide as its column
                    # does not wrap its last character.
                    widest[c] = max(widest.get(c, 0), display_width(value) + 2)
        return {c: max(_NARROWEST, min(_WIDEST, w)) for c, w in widest.items()}

    def fit(self, sheet: Worksheet) -> None:
        """Sets every column's width and the height of each row whose cells wrap: LibreOffice
        and Excel keep the height a workbook gives (15 pt), so wrapped text overlapped the row
        below (the 情况 of the red projects)."""
        widths = self.widths()
        for c, width in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = width
        for top, rows in self.blocks:
            for r, values in enumerate(rows, start=top + 1):
                lines = max(
                    (_lines(value, widths[c]) for c, value in enumerate(values, start=1)),
                    default=1,
                )
                if lines > 1:
                    sheet.row_dimensions[r].height = lines * _LINE_PT


def _lines(value: Any, width: int) -> int:
    """Lines a value wraps to in a column `width` characters wide (its padding left out)."""
    return max(1, -(-display_width(value) // max(1, width - 2)))


def _block(sheet: Worksheet, top: int, title: str, rows: list[list[Any]], tables: _Tables) -> int:
    """A titled table from row `top`; returns the row after it."""
    tables.blocks.append((top, rows))
    _put(sheet, top, 1, title).font = Font(bold=True, size=12)
    for r, values in enumerate(rows, start=top + 1):
        for c, value in enumerate(values, start=1):
            cell = _put(sheet, r, c, value)
            cell.border = _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            if r == top + 1:
                cell.font, cell.fill = _BOLD, _GREY
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            elif value in _MARK_FILLS and c == 3 and rows[0][2] == "标识":
                cell.fill = PatternFill("solid", fgColor=_MARK_FILLS[value])
                cell.font = _BOLD
    return top + len(rows) + 2


def xlsx(b: Bulletin) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "通报"
    _put(sheet, 1, 1, title(b)).font = Font(bold=True, size=16)
    _put(sheet, 2, 1, subtitle(b) + (f"。{DEMO_NOTE}" if b.demo else ""))
    _put(sheet, 3, 1, summary(b)).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=11)
    sheet.row_dimensions[3].height = 48
    row = 5
    tables = _Tables()
    row = _block(
        sheet, row, "一、全区指标完成情况（对照年度目标与序时进度）", target_rows(b), tables
    )
    row = _block(sheet, row, f"年度计划投资完成情况（对照{PLAN_DUE}）", investment_rows(b), tables)
    row = _block(sheet, row, "二、本年批次与转化率", rate_rows(b), tables)
    row = _block(sheet, row, "三、园区排名（按年度计划投资完成率）", park_rows(b), tables) - 1
    _put(sheet, row, 1, legend(b))
    row += 2
    chart_anchor = row
    row += 18
    row = _block(sheet, row, "四、红色预警项目", red_rows(b), tables)
    row = _block(sheet, row, "五、本期新开工项目", news_rows("开工", b.started), tables)
    _block(sheet, row, "六、本期新投产项目", news_rows("投产", b.produced), tables)
    tables.fit(sheet)
    if b.parks:
        # The chart reads the completion and 计划应完成 columns of the ranking as numbers, kept
        # on a sheet of their own (the ranking shows them as text with a % sign).
        data = book.create_sheet("图表数据")
        names, series = chart_series(b)
        data.append(["园区", *(label for label, _ in series)])
        for n, name in enumerate(names):
            data.append([name, *(values[n] for _, values in series)])
        chart = BarChart()
        chart.type = "col"
        chart.title = f"各园区年度计划投资完成率与{PLAN_DUE}（%）"
        chart.y_axis.title = "%"
        chart.add_data(
            Reference(data, min_col=2, max_col=1 + len(series), min_row=1, max_row=1 + len(names)),
            titles_from_data=True,
        )
        chart.set_categories(Reference(data, min_col=1, min_row=2, max_row=1 + len(names)))
        chart.height, chart.width = 8, 18
        sheet.add_chart(chart, f"B{chart_anchor}")
    sheet.freeze_panes = "A5"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF --------------------------------------------------------------------------------------------


def _section(story: list[Flowable], styles: dict[str, Any], title: str, first: Flowable) -> None:
    """A numbered section's heading and its first flowable, never parted by a page break."""
    story += pdf.heading_with(Paragraph(title, styles["heading"]), first, width=pdf.CONTENT_WIDTH)


def pdf_bytes(b: Bulletin) -> bytes:
    styles = pdf.styles()
    width = pdf.CONTENT_WIDTH
    story: list[Flowable] = [Paragraph(title(b), styles["title"])]
    if b.demo:
        story.append(Paragraph(DEMO_NOTE, styles["subtitle"]))
    story += [Paragraph(subtitle(b), styles["subtitle"]), Paragraph(summary(b), styles["body"])]
    _section(
        story,
        styles,
        "一、全区指标完成情况（对照年度目标与序时进度）",
        pdf.table(
            target_rows(b),
            [width * f for f in (0.28, 0.16, 0.16, 0.12, 0.12, 0.16)],
            align_right=(1, 2, 3, 4, 5),
        ),
    )
    story.append(Spacer(1, 3 * mm))
    story.append(
        pdf.table(
            investment_rows(b),
            [width * f for f in (0.28, 0.16, 0.16, 0.12, 0.12, 0.16)],
            align_right=(1, 2, 3, 4, 5),
        )
    )
    story.append(Spacer(1, 3 * mm))
    story.append(pdf.table(rate_rows(b), [width * f for f in (0.4, 0.3, 0.3)], align_right=(1, 2)))
    rows = park_rows(b)
    dark = [(2, n) for n, r in enumerate(rows) if n and r[2] == "红"]
    _section(
        story,
        styles,
        "二、园区排名（按年度计划投资完成率；标识：红/黄/绿）",
        pdf.table(
            rows,
            # Each header on one line: 计划应完成 wrapped a character short at 0.1 of the page.
            [
                width * f
                for f in (0.06, 0.07, 0.06, 0.08, 0.06, 0.06, 0.145, 0.13, 0.09, 0.12, 0.125)
            ],
            align_right=(3, 4, 5, 6, 7, 8, 9, 10),
            bold_cells=[(2, n) for n in range(1, len(rows))],
            dark_cells=dark,
        ),
    )
    story.append(Spacer(1, 1 * mm))
    story.append(Paragraph(legend(b), styles["small"]))
    if b.parks:
        names, series = chart_series(b)
        story.append(Spacer(1, 3 * mm))
        story.append(
            pdf.bar_chart(
                names,
                series,
                width=width,
                height=62 * mm,
                unit="%",
                title=f"各园区年度计划投资完成率与{PLAN_DUE}（%）",
            )
        )
    _section(
        story,
        styles,
        f"三、红色预警项目（{len(b.red_projects)} 个）",
        _or_none(red_rows(b), red_widths(b, width), styles),
    )
    _section(
        story,
        styles,
        f"四、本期新开工项目（{len(b.started)} 个）",
        _or_none(
            news_rows("开工", b.started),
            [width * f for f in (0.08, 0.46, 0.12, 0.16, 0.18)],
            styles,
        ),
    )
    _section(
        story,
        styles,
        f"五、本期新投产项目（{len(b.produced)} 个）",
        _or_none(
            news_rows("投产", b.produced),
            [width * f for f in (0.08, 0.46, 0.12, 0.16, 0.18)],
            styles,
        ),
    )
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "说明：完成率 = 本年已完成投资 ÷ 年度计划投资；序时进度 = 当年已过天数 ÷ 全年天数；"
            f"{PLAN_DUE} = 各项目年度计划按月分解中截至本期已结束月份的计划投资 ÷ 年度计划投资"
            "（未分解的按已过月数 ÷ 12）；差距 = 完成率减去对照的进度，单位为百分点。",
            styles["small"],
        )
    )
    return pdf.render(
        story,
        title=f"{title(b)}（{b.period_label}）",
        author=b.district.scope or "sanpi",
        footer=f"{title(b)} · {b.period_label}",
    )


# The red table's columns as shares of the page: 序号, 项目名称, 园区, 责任单位, 预警规则, 情况.
RED_SHARES = (0.06, 0.22, 0.07, 0.16, 0.2, 0.29)
# A cell's text is set in 8.5 pt with 6 pt of padding either side (sanpi.office.pdf.table).
_CELL_PT, _CELL_PAD = 8.5, 12


def red_widths(b: Bulletin, width: float) -> list[float]:
    """The red table's column widths: 责任单位 as wide as its longest unit (up to a quarter of
    the page), the difference taken from 情况, the column of free text. A fixed share wrapped
    "双桥园区运营中心" one character short ("…运营中" / "心"): a name is read whole."""
    widths = [width * f for f in RED_SHARES]
    font = pdf.register_font()
    units = [r.responsible_unit or "—" for r in b.red_projects]
    wanted = max((stringWidth(u, font, _CELL_PT) + _CELL_PAD + 1 for u in units), default=0.0)
    unit = min(max(widths[3], wanted), width * 0.25)
    widths[5] -= unit - widths[3]
    widths[3] = unit
    return widths


def _or_none(rows: list[list[Any]], widths: list[float], styles: dict[str, Any]) -> Flowable:
    if len(rows) == 1:
        return Paragraph("本期无。", styles["body"])
    return pdf.table(rows, widths)
