"""What a reader of the 旬 bulletin misread in the demo's: a park with red projects marked 绿,
R04 listed twice for one project, and 序时进度 naming two figures on one page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sanpi.events import AlertRule, Severity
from sanpi.milestone.bulletins import documents
from sanpi.milestone.bulletins.schemas import Bulletin, TargetLine
from sanpi.milestone.bulletins.service import rule_hits
from sanpi.milestone.rules.lights import lights_of
from tests.unit.test_bulletin_pdf_layout import bulletin


def overall(counts: dict[Severity, int]) -> Severity:
    (light,) = lights_of([("双桥", c, n) for c, n in counts.items()], share=0.2)
    return light.overall


def test_a_park_with_a_red_project_is_never_green() -> None:
    # The demo's 双桥: 3 of 16 red (19 %, under the fifth) used to be green.
    assert overall({Severity.RED: 3, Severity.GREEN: 13}) is Severity.YELLOW
    assert overall({Severity.RED: 1, Severity.GREEN: 30}) is Severity.YELLOW
    # A fifth red or more: red, as before.
    assert overall({Severity.RED: 4, Severity.GREEN: 16}) is Severity.RED
    # No red: the fifth decides, as before (one yellow of sixteen stays green).
    assert overall({Severity.YELLOW: 1, Severity.GREEN: 15}) is Severity.GREEN
    assert overall({Severity.YELLOW: 4, Severity.GREEN: 12}) is Severity.YELLOW
    assert overall({Severity.BLUE: 5, Severity.GREEN: 1}) is Severity.GREEN
    # A red project among a fifth of orange ones: the orange (shown as 黄) stands.
    assert overall({Severity.RED: 1, Severity.ORANGE: 4, Severity.GREEN: 15}) is Severity.ORANGE


def test_a_rule_raised_per_xun_and_per_month_is_listed_once() -> None:
    hits = rule_hits(
        [
            (AlertRule.R02, "某项目: 签约后未开工", "计划开工 2023-01-18 已过 61 天"),
            (AlertRule.R04, "某项目: 投资完成低于计划分解 (旬)", "截至 2023年3月中旬 …落后 49.8 个百分点"),
            (AlertRule.R04, "某项目: 投资完成低于计划分解 (月)", "截至 2023年2月 …落后 47.2 个百分点"),
        ]
    )  # fmt: skip
    assert [(h.rule, h.title) for h in hits] == [
        (AlertRule.R02, "签约后未开工"),
        (AlertRule.R04, "投资完成低于计划分解"),
    ]
    assert (
        hits[1].message
        == "截至 2023年3月中旬 …落后 49.8 个百分点；截至 2023年2月 …落后 47.2 个百分点"
    )
    # One alert of a rule keeps its title as it is.
    (single,) = rule_hits([(AlertRule.R04, "某项目: 投资完成低于序时进度 (旬)", "x")])
    assert single.title == "投资完成低于序时进度 (旬)"


def test_the_plan_split_is_not_called_xushi_jindu(tmp_path: Path) -> None:
    """序时进度 is the share of the year gone by (21.6 % on 20 March); the 16.7 % the plans' split
    asks by then is 计划应完成, in its own row and column, never under 序时进度."""
    b = bulletin(parks=4)
    b.district.targets = [
        TargetLine(kind="SIGN_AMOUNT", label="新签约项目签约额", unit="亿元", target=400,
                   actual=86.4, attainment_pct=21.6, time_progress_pct=21.6, gap_pts=0.0),
    ]  # fmt: skip
    targets = documents.target_rows(b)
    assert [r[0] for r in targets] == ["指标", "新签约项目签约额"]
    assert (targets[0][4], targets[1][4]) == ("序时进度", "21.6%")
    investment = documents.investment_rows(b)
    assert (investment[0][4], investment[1][4]) == ("计划应完成", "16.7%")
    parks = documents.park_rows(b)
    assert parks[0][9] == "计划应完成"
    assert "序时进度" not in parks[0]
    assert [name for name, _ in documents.chart_series(b)[1]] == ["完成率", "计划应完成"]
    text = pdf_text(tmp_path, b)
    # 序时进度 appears with the year's figure only: the summary, the targets' heading and
    # column, the footnote's definition.
    assert "全区序时进度 21.6%" in text
    assert "计划应完成 16.7%" in text
    assert "序时进度 16.7" not in text.replace(" ", "")


def test_the_park_marks_rule_is_printed_under_the_ranking(tmp_path: Path) -> None:
    b = bulletin(parks=4)
    assert documents.legend(b).startswith(
        "标识：红 = 园区内至少 20% 的项目为红色预警；黄 = 园区内有红色预警项目"
    )
    b.light_share = 0.25
    assert "至少 25% 的项目为红色预警" in pdf_text(tmp_path, b)


def test_a_responsible_unit_is_not_wrapped_mid_word(tmp_path: Path) -> None:
    b = bulletin(parks=2)
    for r in b.red_projects:
        r.responsible_unit = "双桥园区运营中心"
    text = pdf_text(tmp_path, b)
    assert "双桥园区运营中心" in text
    # The headers of the ranking and of the red table, each on one line.
    for header in ("年度计划(亿元)", "已完成(亿元)", "计划应完成", "项目数", "序号", "预警规则"):
        assert header in text, header
    widths = documents.red_widths(b, 480.0)
    assert sum(widths) == pytest.approx(480.0)
    # A unit too long for a quarter of the page wraps within it, never squeezing 情况 away.
    b.red_projects[0].responsible_unit = "郑州高新技术产业开发区管理委员会经济发展局招商服务中心"
    widths = documents.red_widths(b, 480.0)
    assert widths[3] == pytest.approx(120.0)
    assert widths[5] >= 0.19 * 480


def test_a_demo_bulletin_says_so_on_every_page(tmp_path: Path) -> None:
    b = bulletin(parks=30)
    assert "演示数据" not in pdf_text(tmp_path, b)
    b.demo = True
    path = tmp_path / "demo.pdf"
    path.write_bytes(documents.pdf_bytes(b))
    pages = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    assert pages[0].lstrip().startswith("【演示数据】郑州高新区")
    assert "本通报由演示数据生成" in pages[0]
    assert all("【演示数据】" in p.strip().splitlines()[-1] for p in pages), "the footer"


def pdf_text(tmp_path: Path, b: Bulletin) -> str:
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(documents.pdf_bytes(b))
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
