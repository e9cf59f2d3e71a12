"""R01, R03, R08 and R13 at each threshold edge, their silence when an input is missing, and the
rule book served by GET /v1/rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import AlertRule, MilestoneKind, Severity, Stage
from sanpi.events.vocabulary import ALERT_RULE_EN, ALERT_RULE_ZH
from sanpi.milestone.rules.catalogue import CATALOGUE
from sanpi.milestone.rules.evaluation import evaluate_project
from sanpi.milestone.rules.facts import MilestoneFact, ProjectFacts, StageFact
from sanpi.milestone.settings import RuleSettings
from tests.support.milestone import milestone_service
from tests.unit.test_milestone_rules import DEADLINES, RULES, alerts, project, report, started
from tests.unit.test_milestone_rules import severity as severity_of

D = dt.date
SIGNED = D(2023, 1, 1)  # the signing day of tests.unit.test_milestone_rules.project()


def severity(facts: ProjectFacts, as_of: dt.date, key: str) -> Severity | None:
    return severity_of(facts, as_of, key)


def silent(facts: ProjectFacts, as_of: dt.date, rules: RuleSettings = RULES) -> Counter[AlertRule]:
    counted: Counter[AlertRule] = Counter()
    evaluate_project(facts, as_of, rules, DEADLINES, counted)
    return counted


def achieved(kind: MilestoneKind, on: dt.date) -> MilestoneFact:
    return MilestoneFact(kind, baseline=on, actual=on)


# --- R01 signed, no 履约 evidence ---------------------------------------------------------------


def test_r01_yellow_after_60_days_red_after_90() -> None:
    facts = project()
    day = SIGNED + dt.timedelta(days=60)
    assert severity(facts, day, "R01:p1") is None  # 60 days: not more than 60
    assert severity(facts, day + dt.timedelta(days=1), "R01:p1") is Severity.YELLOW  # 61
    assert severity(facts, day + dt.timedelta(days=2), "R01:p1") is Severity.YELLOW
    red = SIGNED + dt.timedelta(days=90)
    assert severity(facts, red, "R01:p1") is Severity.YELLOW  # 90 days: not more than 90
    assert severity(facts, red + dt.timedelta(days=1), "R01:p1") is Severity.RED  # 91
    assert severity(facts, red + dt.timedelta(days=2), "R01:p1") is Severity.RED
    alert = alerts(facts, red + dt.timedelta(days=1))["R01:p1"]
    assert alert.metric_value == 91
    assert alert.threshold == 91
    assert "91 天无履约记录" in alert.message


def test_r01_clears_with_fulfilment_or_a_land_node_and_needs_a_signing_day() -> None:
    day = SIGNED + dt.timedelta(days=100)
    fulfilled = project(
        stages=(StageFact(Stage.SIGNED, SIGNED), StageFact(Stage.FULFILLING, D(2023, 4, 1))),
        milestones=(achieved(MilestoneKind.FULFILLED, D(2023, 4, 1)),),
    )
    assert severity(fulfilled, day, "R01:p1") is None
    # Land acquired proves 履约 even without a FULFILLED milestone; not before its day.
    land = project(milestones=(achieved(MilestoneKind.LAND_ACQUIRED, D(2023, 4, 5)),))
    assert severity(land, D(2023, 4, 4), "R01:p1") is Severity.RED
    assert severity(land, D(2023, 4, 5), "R01:p1") is None
    # A started project is past 履约: R01 judges SIGNED projects only.
    assert severity(started(D(2023, 2, 1)), day, "R01:p1") is None
    unknown = project(signed_date=None)
    assert severity(unknown, day, "R01:p1") is None
    assert silent(unknown, day)[AlertRule.R01] == 1


# --- R03 funds arrival low ----------------------------------------------------------------------


def funded(funds: int | None, **changes: Any) -> ProjectFacts:
    """Signed 2023-01-01 for 100,000 万元, started, with a March report giving `funds`."""
    reports = (report("2023-03", 5_000, funds_arrived=funds),)
    return started(D(2023, 2, 1), **{"contract_amount": 100_000, "reports": reports, **changes})


def test_r03_yellow_three_months_after_signing_red_after_six() -> None:
    low = funded(24_999)  # 24.999 % of the contract amount
    assert severity(low, D(2023, 3, 31), "R03:p1") is None  # 3 months on 2023-04-01
    assert severity(low, D(2023, 4, 1), "R03:p1") is Severity.YELLOW
    assert severity(low, D(2023, 4, 2), "R03:p1") is Severity.YELLOW
    assert severity(low, D(2023, 6, 30), "R03:p1") is Severity.YELLOW  # 6 months on 07-01
    assert severity(low, D(2023, 7, 1), "R03:p1") is Severity.RED
    assert severity(low, D(2023, 7, 2), "R03:p1") is Severity.RED
    alert = alerts(low, D(2023, 7, 1))["R03:p1"]
    assert alert.metric_value == 25.0
    assert alert.threshold == 25.0
    assert "到位资金 24999 万元 / 签约额 100000 万元" in alert.message


def test_r03_quarter_of_the_contract_is_enough_and_the_latest_figure_counts() -> None:
    assert severity(funded(25_000), D(2023, 8, 1), "R03:p1") is None  # 25 %: not below
    reports = (
        report("2023-03", 5_000, funds_arrived=30_000),
        report("2023-04", 6_000, funds_arrived=10_000),  # a correction downwards: the latest
        report("2023-05", 7_000),  # gives no funds: the April figure stands
    )
    facts = started(D(2023, 2, 1), contract_amount=100_000, reports=reports)
    assert severity(facts, D(2023, 4, 29), "R03:p1") is None  # April not ended: 30 %
    assert severity(facts, D(2023, 7, 1), "R03:p1") is Severity.RED


def test_r03_is_silent_without_a_contract_amount_or_a_funds_figure() -> None:
    day = D(2023, 8, 1)
    for facts in (funded(1_000, contract_amount=None), funded(None), project()):
        assert severity(facts, day, "R03:p1") is None
        assert silent(facts, day)[AlertRule.R03] == 1
    # Before the first checkpoint nothing is missing yet: nothing to judge.
    assert silent(funded(None), D(2023, 3, 31))[AlertRule.R03] == 0


# --- R08 started but not 入库纳统 ----------------------------------------------------------------


def test_r08_yellow_after_a_month_red_after_two() -> None:
    facts = started(D(2023, 3, 15))
    assert severity(facts, D(2023, 4, 14), "R08:p1") is None
    assert severity(facts, D(2023, 4, 15), "R08:p1") is None  # exactly a month
    assert severity(facts, D(2023, 4, 16), "R08:p1") is Severity.YELLOW
    assert severity(facts, D(2023, 5, 15), "R08:p1") is Severity.YELLOW  # exactly two months
    assert severity(facts, D(2023, 5, 16), "R08:p1") is Severity.RED
    assert severity(facts, D(2023, 5, 17), "R08:p1") is Severity.RED


def test_r08_counts_from_the_started_milestone_and_clears_when_in_statistics() -> None:
    # The STARTED milestone's day wins over the day the stage was recorded.
    facts = started(D(2023, 3, 20), milestones=(achieved(MilestoneKind.STARTED, D(2023, 3, 15)),))
    assert severity(facts, D(2023, 4, 16), "R08:p1") is Severity.YELLOW
    counted = dataclasses.replace(
        facts,
        milestones=(*facts.milestones, achieved(MilestoneKind.IN_STATISTICS, D(2023, 5, 10))),
    )
    assert severity(counted, D(2023, 5, 9), "R08:p1") is Severity.YELLOW
    assert severity(counted, D(2023, 5, 10), "R08:p1") is None
    assert severity(counted, D(2024, 1, 1), "R08:p1") is None
    assert severity(project(), D(2024, 1, 1), "R08:p1") is None  # not started


# --- R13 cancellation candidate -------------------------------------------------------------------


def test_r13_red_once_r02_was_red_for_more_than_12_months() -> None:
    # No planned start: R02 is red 180 days after signing, 2023-06-30.
    facts = project()
    assert severity(facts, D(2023, 6, 30), "R02:p1") is Severity.RED
    assert severity(facts, D(2024, 6, 29), "R13:p1") is None
    assert severity(facts, D(2024, 6, 30), "R13:p1") is None  # exactly 12 months
    assert severity(facts, D(2024, 7, 1), "R13:p1") is Severity.RED
    alert = alerts(facts, D(2024, 7, 1))["R13:p1"]
    assert "签约未开工红灯已 12 个月" in alert.message
    assert "不会" not in alert.message
    assert "是否终止由登记机关决定" in alert.message
    # A planned start brings R02's red forward: 3 months past 2023-03-15.
    planned = project(planned_start=D(2023, 3, 15))
    assert severity(planned, D(2024, 6, 15), "R13:p1") is None
    assert severity(planned, D(2024, 6, 16), "R13:p1") is Severity.RED
    # A start, a suspension or a cancellation ends the candidacy.
    assert severity(started(D(2024, 1, 1)), D(2024, 8, 1), "R13:p1") is None
    suspended = project(
        stages=(StageFact(Stage.SIGNED, SIGNED), StageFact(Stage.SUSPENDED, D(2024, 1, 1)))
    )
    assert severity(suspended, D(2024, 8, 1), "R13:p1") is None


def test_r13_red_when_the_investors_funds_never_came() -> None:
    reports = (report("2023-03", 0, funds_arrived=1_000),)
    facts = project(
        contract_amount=100_000,
        reports=reports,
        planned_start=D(2024, 6, 1),  # R02 red only from 2023-06-30 (180 days)
    )
    assert severity(facts, D(2023, 12, 31), "R13:p1") is None
    assert severity(facts, D(2024, 1, 1), "R13:p1") is Severity.RED  # 12 months after signing
    assert "投资方资金未落实" in alerts(facts, D(2024, 1, 1))["R13:p1"].message
    enough = project(
        contract_amount=100_000,
        reports=(report("2023-03", 0, funds_arrived=25_000),),
        planned_start=D(2024, 6, 1),
    )
    assert severity(enough, D(2024, 1, 1), "R13:p1") is None


def test_thresholds_come_from_settings() -> None:
    rules = RuleSettings.model_validate(
        {"r01": {"yellow_days": 31}, "r08": {"yellow_months": 2, "red_months": 3}}
    )
    day = SIGNED + dt.timedelta(days=31)
    assert {a.key: a.severity for a in evaluate_project(project(), day, rules, DEADLINES)}.get(
        "R01:p1"
    ) is Severity.YELLOW
    facts = started(D(2023, 3, 15))
    late = {a.key: a.severity for a in evaluate_project(facts, D(2023, 4, 16), rules, DEADLINES)}
    assert "R08:p1" not in late


# --- the rule book and the evaluation's summary ------------------------------------------------


def test_every_rule_has_its_text() -> None:
    assert list(CATALOGUE) == list(AlertRule) == list(ALERT_RULE_ZH) == list(ALERT_RULE_EN)
    assert all(ALERT_RULE_ZH.values())
    assert all(ALERT_RULE_EN.values())
    for text in CATALOGUE.values():
        assert text.description_zh
        assert text.description_en


@pytest.mark.db_independent
async def test_rules_endpoint_lists_the_rule_book_with_configured_thresholds(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, rules={"r03": {"min_share": 0.3}}) as svc:
        response = await svc.client.get("/v1/rules")
        assert response.status_code == 200, response.text
        items = {item["code"]: item for item in response.json()["items"]}
        unauthenticated = await svc.client.get("/v1/rules", headers={"Authorization": ""})
    assert list(items) == [str(rule) for rule in AlertRule]
    r03 = items["R03"]
    assert r03["title_zh"] == "资金到位率低"
    assert r03["title_en"] == "funds arrival low"
    # The rule book names a rule as the messages and the pages do (it said 签约未履约 for R01).
    assert (items["R01"]["title_zh"], items["R01"]["title_en"]) == (
        "签约后未履约",
        "signed, contract not yet fulfilled",
    )
    assert r03["thresholds"] == {"min_share": 0.3, "yellow_months": 3, "red_months": 6}
    assert r03["severities"] == ["yellow", "red"]
    assert r03["evaluated"] is True
    assert items["R13"]["severities"] == ["red"]
    assert items["R08"]["thresholds"] == {"yellow_months": 1, "red_months": 2}
    assert items["R01"]["thresholds"] == {"yellow_days": 61, "red_days": 91}
    assert all(item["evaluated"] for item in items.values())
    assert items["R15"]["thresholds"] == {"yellow": 10.0, "red": 20.0}
    assert items["R14"]["thresholds"] == {
        "target": 80.0,
        "red_below": 20.0,
        "judged_after_days": 180,
        "min_signings": 3,
    }
    assert unauthenticated.status_code == 401


async def test_evaluation_summary_counts_rules_silent_for_missing_inputs(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 8, 1)) as svc:
        await svc.register("p1")  # no contract amount: R03 cannot judge it
        await svc.register("p2", contract_amount=80_000)  # no funds reported yet
        body = await svc.evaluate(D(2023, 8, 1))
    assert body["silent"]["R03"] == 2
    assert not [key for key in body["raised"] if key.startswith("R03")]


async def test_in_statistics_needs_a_start_and_resolves_r08(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 6, 1)) as svc:
        await svc.register("p1")
        before = await svc.post("p1/milestones", {"kind": "IN_STATISTICS", "date": "2023-02-01"})
        started_ = await svc.post(
            "p1/milestones",
            {"kind": "STARTED", "date": "2023-03-01", "evidence": ["site-2023-03-01.jpg"]},
        )
        assert started_.status_code == 201, started_.text
        early = await svc.post("p1/milestones", {"kind": "IN_STATISTICS", "date": "2023-02-28"})
        counted = await svc.post("p1/milestones", {"kind": "IN_STATISTICS", "date": "2023-05-03"})
        r08 = await svc.alert_events("R08:p1")
    assert before.status_code == 422
    assert [e["field"] for e in before.json()["errors"]] == ["kind"]
    assert "入库纳统只能在开工后登记" in before.json()["errors"][0]["reason"]
    assert early.status_code == 422
    assert [e["field"] for e in early.json()["errors"]] == ["date"]
    assert counted.status_code == 201, counted.text
    # Started 3 months ago: red once the start was recorded, resolved by the 入库纳统 record.
    assert r08 == [("raised", "red"), ("resolved", "red")]
