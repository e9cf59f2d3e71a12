"""What a 旬报 sheet's row is told when the batch's message counts batch positions (第 3 条): the
same message by spreadsheet row, as the person who filled the sheet sees it."""

from __future__ import annotations

from sanpi.kit.messages import template

NOTHING_WRITTEN = template(
    "sheet.nothing_written",
    zh="整表未写入（all_or_nothing）：第 {rows} 行被拒绝",
    en="nothing was written (all_or_nothing): row(s) {rows} of the sheet refused",
)
SAME_IN_SHEET = template(
    "sheet.same_period",
    zh="本表第 {other} 行已经填报了这个项目的 {period}",
    en="row {other} of this sheet already reports {period} of this project",
)
