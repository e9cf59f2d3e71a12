"""The bulletin's PDF never leaves a section heading alone at the foot of a page (三、红色预警项目
above a page break, its table on the next page): whatever the number of parks above it."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

from sanpi.events import AlertRule, ReportPeriodKind
from sanpi.milestone.bulletins.documents import pdf_bytes
from sanpi.milestone.bulletins.schemas import (
    Bulletin,
    District,
    Investment,
    ParkRank,
    RedProject,
    RuleHit,
)

HEADING = re.compile(r"^[一二三四五]、")
FOOTER = "郑州高新区“三个一批”项目建设旬通报 · 2025年3月中旬"


def investment(done: int, plan: int) -> Investment:
    return Investment(
        completed_ytd=done,
        expected_ytd=plan // 6,
        annual_plan=plan,
        completion_pct=round(done / plan * 100, 1),
        expected_pct=16.7,
        gap_pts=round(done / plan * 100 - 16.7, 1),
    )


def bulletin(parks: int, reds: int = 4) -> Bulletin:
    return Bulletin(
        period="2025-03-X2",
        kind=ReportPeriodKind.XUN,
        title="郑州高新区“三个一批”项目建设旬通报",
        period_label="2025年3月中旬",
        start=dt.date(2025, 3, 11),
        end=dt.date(2025, 3, 20),
        as_of=dt.date(2025, 3, 20),
        provisional=False,
        district=District(
            scope="郑州高新区",
            time_progress_pct=21.6,
            targets=[],
            batches=[],
            rates=[],
            investment=investment(3_000, 36_000),
        ),
        parks=[
            ParkRank(
                rank=n + 1,
                park=f"园区{n + 1}",
                projects=5,
                red=1,
                yellow=1,
                investment=investment(1_000 - n * 10, 12_000),
                mark="red" if n % 3 == 0 else "green",
                mark_zh="红" if n % 3 == 0 else "绿",
            )
            for n in range(parks)
        ],
        red_projects=[
            RedProject(
                project_id=f"p{n}",
                name=f"红色预警示例项目{n}",
                park="园区1",
                responsible_unit="园区运营中心",
                responsible_person="张伟",
                rules=[RuleHit(rule=AlertRule.R02, title="签约后未开工", message="签约超过180天")],
            )
            for n in range(reds)
        ],
        started=[],
        produced=[],
    )


def page_texts(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines, the footer left out."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = []
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        pages.append([line for line in lines if not line.startswith(FOOTER)])
    return [p for p in pages if p]


def test_no_page_ends_with_a_section_heading(tmp_path: Path) -> None:
    orphans = []
    heading_pages = set()
    # From one park to thirty, the heading of 三 moves down the first page and onto the second
    # in steps of one table row: some of them would land at the foot of a page.
    for parks in range(1, 31):
        path = tmp_path / f"bulletin-{parks}.pdf"
        path.write_bytes(pdf_bytes(bulletin(parks)))
        pages = page_texts(path)
        for number, lines in enumerate(pages[:-1], start=1):
            if HEADING.match(lines[-1]):
                orphans.append((parks, number, lines[-1]))
        # The heading's page also holds the red table's header and its first row.
        index, lines = next(
            (n, lines)
            for n, lines in enumerate(pages)
            if any(x.startswith("三、红色预警项目") for x in lines)
        )
        after = " ".join(lines[[x.startswith("三、") for x in lines].index(True) + 1 :])
        heading_pages.add(index)
        assert "项目名称" in after, (parks, index, lines[-3:])
        assert "红色预警示例项目0" in after, (parks, index, lines[-3:])
    assert orphans == []
    # The range did move the section across a page (from the first to the second, or on).
    assert len(heading_pages) >= 2, heading_pages
