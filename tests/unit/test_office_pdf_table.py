"""The bulletin's tables wrap a text wider than its column, whatever its script, and print a
name's markup characters as text."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from sanpi.office.pdf import table


def cells(rows: list[list[str]], widths: list[float]) -> list[list[object]]:
    shown = table(rows, widths)
    # reportlab keeps the cells it lays out here; its stubs do not declare the attribute.
    values: list[list[object]] = getattr(shown, "_cellvalues")  # noqa: B009
    return [list(row) for row in values]


def test_fourteen_chinese_characters_wrap_in_a_narrow_column() -> None:
    """14 characters were the old threshold: 上海新锐北斗导航研发生产基地 ran into the next column."""
    [[name, park]] = cells([["上海新锐北斗导航研发生产基地", "双桥"]], [30 * mm, 15 * mm])
    assert isinstance(name, Paragraph)
    assert park == "双桥"


def test_a_short_latin_text_stays_plain_and_markup_is_text() -> None:
    [[short, marked]] = cells(
        [["R02", "A & B <建设> 有限公司的一个很长很长的项目名称"]], [30 * mm, 30 * mm]
    )
    assert short == "R02"
    assert isinstance(marked, Paragraph)
    assert "A & B <建设>" in marked.getPlainText()
