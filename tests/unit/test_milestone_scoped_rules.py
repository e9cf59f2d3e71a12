"""Rules R14 (conversion below target) and R15 (annual target pace), pure: every threshold edge,
silence without a target or with too small a cohort, and no alert once caught up."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sanpi.events import AlertRule, Severity, TargetKind
from sanpi.milestone.rules.evaluation import DesiredAlert
from sanpi.milestone.rules.scoped import (
    PortfolioFact,
    r14_conversion_below_target,
    r15_target_pace,
)
from sanpi.milestone.settings import RuleSettings

D = dt.date
DISTRICT = "郑州高新区"
# 1 July 2023 is day 182 of 365: 序时进度 182/365 = 49.86 %.
JULY = D(2023, 7, 1)
RULES = RuleSettings()


def signing(
    amount: int, *, park: str = "梧桐", on: dt.date = D(2023, 2, 1), **fields: Any
) -> PortfolioFact:
    base = PortfolioFact(
        park=park,
        first_period=7,
        signed=True,
        signed_on=on,
        started_on=None,
        cancelled=False,
        is_manufacturing=False,
        total_investment=amount,
        contract_amount=amount,
    )
    return base._replace(**fields)


def r15(
    portfolio: list[PortfolioFact],
    targets: dict[str, dict[TargetKind, int]],
    day: dt.date = JULY,
    silent: Counter[AlertRule] | None = None,
) -> dict[str, DesiredAlert]:
    found = r15_target_pace(
        portfolio,
        targets,
        district=DISTRICT,
        as_of=day,
        rules=RULES,
        silent=silent if silent is not None else Counter(),
    )
    return {a.key: a for a in found}


def test_r15_yellow_only_beyond_10_points_behind_time_progress() -> None:
    # 3650 × (182/365 − 10 %) = 1455 exactly 10 points behind: not "more than 10".
    targets = {"梧桐": {TargetKind.SIGN_AMOUNT: 3650}}
    assert r15([signing(1455)], targets) == {}
    alert = r15([signing(1454)], targets)["R15:梧桐:SIGN_AMOUNT"]
    assert (alert.severity, alert.park, alert.scope) == (Severity.YELLOW, "梧桐", "park")
    # 1454/3650 = 39.84 %, half up 39.8; threshold 49.9 − 10.
    assert (alert.metric_value, alert.threshold) == (39.8, 39.9)
    assert alert.title == "梧桐: 2023年签约额进度落后序时进度"
    assert "签约额完成 1454 万元 / 目标 3650 万元 = 39.8%, 序时进度 49.9%" in alert.message


def test_r15_prints_money_from_one_yi_up_in_yi() -> None:
    # A district's 签约额: 410亿 against 1640亿 reads in 亿元, not as 4100000 万元.
    targets = {"梧桐": {TargetKind.SIGN_AMOUNT: 16_400_000}}
    alert = r15([signing(4_100_000)], targets)["R15:梧桐:SIGN_AMOUNT"]
    assert "签约额完成 410 亿元 / 目标 1640 亿元 = 25.0%" in alert.message
    uneven = r15([signing(12_345)], {"梧桐": {TargetKind.SIGN_AMOUNT: 36_505}})
    assert "完成 1.23 亿元 / 目标 3.65 亿元" in uneven["R15:梧桐:SIGN_AMOUNT"].message


def test_r15_red_only_beyond_20_points_behind() -> None:
    targets = {"梧桐": {TargetKind.SIGN_AMOUNT: 3650}}
    assert r15([signing(1090)], targets)["R15:梧桐:SIGN_AMOUNT"].severity is Severity.YELLOW
    red = r15([signing(1089)], targets)["R15:梧桐:SIGN_AMOUNT"]
    assert (red.severity, red.threshold) == (Severity.RED, 29.9)


def test_r15_caught_up_says_nothing() -> None:
    targets = {DISTRICT: {TargetKind.SIGN_AMOUNT: 3650}}
    assert r15([signing(1820)], targets) == {}
    assert r15([signing(900), signing(920, park="电子电器")], targets) == {}


def test_r15_district_scope_counts_every_park_and_carries_no_park() -> None:
    targets = {DISTRICT: {TargetKind.SIGN_AMOUNT: 10_000}}
    found = r15([signing(1000), signing(1000, park="电子电器")], targets)
    alert = found["R15:district:SIGN_AMOUNT"]
    assert (alert.park, alert.scope, alert.metric_value) == (None, "district", 20.0)
    assert alert.title.startswith(DISTRICT)


def test_r15_judges_each_kind_the_way_the_registry_counts_it() -> None:
    targets = {
        DISTRICT: {
            TargetKind.MFG_SIGN_COUNT: 12,
            TargetKind.MFG_SIGN_AMOUNT: 10_000,
            TargetKind.NEW_START_INVESTMENT: 10_000,
        }
    }
    portfolio = [
        signing(5_000, is_manufacturing=True),
        signing(5_000, is_manufacturing=True, cancelled=True),  # cancelled money is not money
        signing(3_000, started_on=D(2023, 5, 1), signed=False, contract_amount=None),
        signing(9_000, on=D(2022, 5, 1), started_on=D(2022, 9, 1)),  # last year's start
    ]
    found = r15(portfolio, targets)
    assert found["R15:district:MFG_SIGN_COUNT"].metric_value == 8.3  # 1 of 12
    assert "制造业签约个数完成 1 个 / 目标 12 个" in found["R15:district:MFG_SIGN_COUNT"].message
    assert "R15:district:MFG_SIGN_AMOUNT" not in found  # 50 % against 49.9 %
    assert found["R15:district:NEW_START_INVESTMENT"].metric_value == 30.0  # 19.9 behind: yellow
    assert found["R15:district:NEW_START_INVESTMENT"].severity is Severity.YELLOW


def test_r15_without_a_target_is_silent_and_says_so() -> None:
    silent: Counter[AlertRule] = Counter()
    assert r15([signing(1)], {}, silent=silent) == {}
    assert silent == Counter({AlertRule.R15: 1})
    # A park's target judged, the district's missing: the district is still counted silent.
    silent = Counter()
    found = r15([signing(1)], {"梧桐": {TargetKind.SIGN_AMOUNT: 0}}, silent=silent)
    assert found == {}
    assert silent[AlertRule.R15] == 2


def r14(
    portfolio: list[PortfolioFact],
    day: dt.date = D(2023, 9, 1),
    silent: Counter[AlertRule] | None = None,
) -> dict[str, DesiredAlert]:
    found = r14_conversion_below_target(
        portfolio,
        district=DISTRICT,
        as_of=day,
        rules=RULES,
        silent=silent if silent is not None else Counter(),
    )
    return {a.key: a for a in found}


def cohort(size: int, started: int, park: str = "梧桐") -> list[PortfolioFact]:
    return [
        signing(100, park=park, started_on=D(2023, 4, 1) if n < started else None)
        for n in range(size)
    ]


def test_r14_yellow_below_the_target_red_20_points_below() -> None:
    assert r14(cohort(5, 4)) == {}  # 80 %: on target
    yellow = r14(cohort(5, 3))  # 60 %: below 80, not below 60
    assert {k: a.severity for k, a in yellow.items()} == {
        "R14:梧桐:7": Severity.YELLOW,
        "R14:district:7": Severity.YELLOW,
    }
    park = yellow["R14:梧桐:7"]
    assert (park.park, park.periods, park.metric_value, park.threshold) == (
        "梧桐",
        (7,),
        60.0,
        80.0,
    )
    assert park.title == "梧桐: 第7期签约项目开工率低于目标"
    red = r14(cohort(5, 2))["R14:梧桐:7"]  # 40 %
    assert (red.severity, red.threshold) == (Severity.RED, 60.0)


def test_r14_judges_parks_and_the_district_apart() -> None:
    found = r14(cohort(5, 5) + cohort(5, 2, park="电子电器"))  # 100 %, 40 %; together 70 %
    assert {k: a.severity for k, a in found.items()} == {
        "R14:电子电器:7": Severity.RED,
        "R14:district:7": Severity.YELLOW,
    }
    assert found["R14:district:7"].park is None


def test_r14_waits_until_signings_are_old_enough_and_cohorts_big_enough() -> None:
    # Signed 1 Feb: 180 days old on 31 July, judged from then on.
    assert r14(cohort(5, 0), day=D(2023, 7, 30)) == {}
    assert set(r14(cohort(5, 0), day=D(2023, 7, 31))) == {"R14:梧桐:7", "R14:district:7"}
    silent: Counter[AlertRule] = Counter()
    assert r14(cohort(2, 0), silent=silent) == {}
    assert silent[AlertRule.R14] == 2  # the park's cohort and the district's: too small
    # Cancelled signings and projects registered already started are not in the cohort.
    gone = [p._replace(cancelled=True) for p in cohort(3, 0)]
    registered_started = [p._replace(signed=False) for p in cohort(3, 0)]
    assert r14(cohort(4, 4) + gone + registered_started) == {}


def test_r14_resolves_once_the_cohort_catches_up() -> None:
    assert r14(cohort(5, 3))
    assert r14(cohort(5, 4)) == {}
