"""Every rule says its alert in English too, beside the Chinese and with the same figures: the
words an English subscription reads (title_en, message_en of the alert events)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from sanpi.events import AlertRule, MilestoneKind, Stage, TargetKind
from sanpi.milestone.rules.evaluation import DesiredAlert
from sanpi.milestone.rules.facts import MilestoneFact, StageFact
from sanpi.milestone.rules.scoped import scoped_alerts
from tests.unit.test_assigned_issue_rules import issue
from tests.unit.test_assigned_issue_rules import project as with_issues
from tests.unit.test_milestone_rules import (
    PLAN,
    RULES,
    STALL,
    D,
    alerts,
    project,
    report,
    started,
)
from tests.unit.test_milestone_scoped_rules import DISTRICT, JULY, cohort, signing

pytestmark = pytest.mark.db_independent

NAME = "雄韬氢能产业园"
# What an English text may keep in Chinese: the names people gave (project, park, district), a
# milestone's label and an issue's unit. Money reads 10k yuan / 100 million yuan, as the portal's.
KEPT = (NAME, DISTRICT, "梧桐", "二期", "供电公司")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# The English money units, whose digits are not figures of the alert.
UNITS = re.compile(r"\((?:10k|100 million) yuan\)")


def project_alerts() -> list[DesiredAlert]:
    """Projects in the states that set off the project rules, each on a day it fires."""
    nodes = (
        MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 3, 1), forecast=D(2023, 3, 5)),
        MilestoneFact(MilestoneKind.COMPLETED, label="二期", baseline=D(2023, 3, 10)),
        MilestoneFact(MilestoneKind.LAND_ACQUIRED, baseline=D(2023, 4, 5)),
    )
    in_production = started(D(2023, 1, 1))
    in_production = dataclasses.replace(
        in_production,
        stages=(*in_production.stages, StageFact(Stage.IN_PRODUCTION, D(2023, 2, 1))),
    )
    suspended = started(D(2023, 3, 1), expected_resume_date=None)
    suspended = dataclasses.replace(
        suspended, stages=(*suspended.stages, StageFact(Stage.SUSPENDED, D(2023, 5, 1)))
    )
    cases = [
        (project(), D(2023, 7, 1)),  # R01, R02
        (project(planned_start=D(2023, 3, 15)), D(2023, 6, 15)),  # R02 against its plan
        (project(), D(2024, 12, 1)),  # R13
        (project(milestones=(nodes[2],)), D(2023, 4, 1)),  # R17 on a node
        (
            project(contract_amount=10_000, reports=(report("2023-06-X3", 0, funds_arrived=500),)),
            D(2023, 7, 5),
        ),  # R03
        (started(D(2023, 1, 1), plans=(PLAN,), reports=(report("2023-06-X3", 7_052),)), JULY),
        (started(D(2023, 1, 10), milestones=nodes), D(2023, 4, 1)),  # R05, R07, R08
        (started(D(2023, 3, 10), reports=STALL), D(2023, 4, 3)),  # R06
        (with_issues(issue(answered_on=None)), D(2023, 6, 1)),  # R12
        (started(D(2023, 3, 1), planned_production=D(2024, 6, 30)), D(2024, 9, 29)),  # R09
        (in_production, D(2024, 3, 1)),  # R10
        (suspended, D(2023, 6, 15)),  # R11
        (
            started(
                D(2023, 1, 1),
                total_investment=50_000,
                reports=(
                    report("2023-03-X1", 60_000, physical_pct=40.0),
                    report("2023-03-X2", 60_000, physical_pct=35.0),
                ),
            ),
            D(2023, 3, 22),
        ),  # R16
        (project(planned_start=D(2023, 6, 1), milestones=(nodes[2],)), D(2023, 5, 1)),  # R18
    ]
    return [a for facts, day in cases for a in alerts(facts, day).values()]


def scope_alerts() -> list[DesiredAlert]:
    portfolio = [*cohort(5, 2), signing(1454)]
    targets = {"梧桐": {TargetKind.SIGN_AMOUNT: 3650}, DISTRICT: {TargetKind.SIGN_AMOUNT: 3650}}
    return scoped_alerts(
        portfolio, targets, district=DISTRICT, as_of=D(2023, 9, 1), rules=RULES, silent=Counter()
    )


def english_only(text: str) -> str:
    for kept in KEPT:
        text = text.replace(kept, "")
    return text


def test_every_rule_says_its_alert_in_english_with_the_same_figures() -> None:
    found = [*project_alerts(), *scope_alerts()]
    rules = {a.rule for a in found}
    assert rules == set(AlertRule), set(AlertRule) - rules
    for a in found:
        assert a.title_en, a
        assert a.message_en, a
        for zh, en in ((a.title, a.title_en), (a.message, a.message_en)):
            assert CJK.findall(english_only(en)) == [], (a.key, en)
            # Every figure of the English is one the Chinese gives (a period's month is a
            # word in English, so the Chinese may have more).
            figures = NUMBER.findall(UNITS.sub("", en))
            assert set(figures) <= set(NUMBER.findall(zh)), (zh, en)


def test_a_project_rule_and_a_scope_rule_in_both_languages() -> None:
    r02 = alerts(project(planned_start=D(2023, 3, 15)), D(2023, 6, 15))["R02:p1"]
    assert (r02.title, r02.title_en) == (f"{NAME}: 签约未开工", f"{NAME}: signed, not started")
    assert r02.message == "计划开工 2023-03-15 已过 92 天仍未开工 (签约 165 天)"
    assert r02.message_en == (
        "planned start 2023-03-15 passed 92 days ago, still not started (signed 165 days ago)"
    )
    [r15] = [a for a in scope_alerts() if a.key == "R15:梧桐:SIGN_AMOUNT"]
    assert r15.title_en == "梧桐: 2023 amount signed by new projects behind time progress"
    assert r15.message == (
        "截至 2023-09-01 签约额完成 1954 万元 / 目标 3650 万元 = 53.5%, 序时进度 66.8%, "
        "落后 13.3 个百分点"
    )
    assert r15.message_en == (
        "by 2023-09-01 amount signed by new projects: 1954 (10k yuan) of the target 3650 (10k yuan) = 53.5%, "
        "time progress 66.8%, behind by 13.3 percentage points"
    )


def test_r05_names_the_milestones_in_english() -> None:
    nodes = (
        MilestoneFact(MilestoneKind.TOPPED_OUT, baseline=D(2023, 3, 1)),
        MilestoneFact(MilestoneKind.COMPLETED, label="二期", baseline=D(2023, 3, 10)),
    )
    late = alerts(started(D(2023, 1, 10), milestones=nodes), D(2023, 4, 1))["R05:p1"]
    assert late.title_en == f"{NAME}: milestone overdue: Topped out"
    assert "Construction completed (二期) 22 days overdue (planned 2023-03-10)" in late.message_en
