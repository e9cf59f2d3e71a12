"""The officials' published rates (签约项目履约率, 履约项目开工率, 计划开工率), half-up percentages,
调出 leaving the denominators from its effective day (figures "as of" a past day never move), and
序时进度 defined once for R04 and the indicators."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.events import BatchType, ReportPeriodKind, Severity, Stage
from sanpi.events.percent import half_up, pct, pct_of
from sanpi.events.xun import ReportPeriod, time_progress
from sanpi.kit import FixedClock
from sanpi.milestone.rules.evaluation import Deadlines, evaluate_project
from sanpi.milestone.rules.facts import PlanFact, ProjectFacts, ReportFact, StageFact
from sanpi.milestone.settings import RuleSettings
from sanpi.registry.indicators import formulas
from sanpi.registry.indicators.formulas import cohort_rates, cumulative_rates, published_rates
from tests.support.registry import (
    create,
    funds_reported,
    list_on,
    open_period,
    registry_client,
    stage_changed,
)
from tests.unit.test_registry_indicators import project

D = dt.date

# --- half up ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (31.25, 1, 31.3),  # round() gives 31.2 (half to even)
        (45.25, 1, 45.3),  # round() gives 45.2
        (0.05, 1, 0.1),  # round() gives 0.1 by luck of the binary float; half up by rule
        (0.15, 1, 0.2),  # stored as 0.1499999…: round() gives 0.1
        (2.675, 2, 2.68),  # stored as 2.67499…: round() gives 2.67
        (-0.05, 1, -0.1),  # halves go away from zero
        (31.249, 1, 31.2),
        (Fraction(625, 20), 1, 31.3),
        (Decimal("79.95"), 1, 80.0),
        (7, 1, 7.0),
    ],
)
def test_half_up_at_the_x5_edges(
    value: float | Fraction | Decimal, places: int, expected: float
) -> None:
    assert half_up(value, places) == expected


def test_percentages_as_bulletins_print_them() -> None:
    assert (round(31.25, 1), round(45.25, 1)) == (31.2, 45.2)  # what round() would show
    assert pct_of(5, 16) == 31.3
    assert pct_of(181, 400) == 45.3
    assert pct_of(2454, 3086) == 79.5  # 两江 签约项目开工率
    assert pct_of(2154, 2454) == 87.8  # 两江 开工项目投产率
    assert (pct_of(1, 3), pct_of(2, 3), pct_of(0, 5), pct_of(3, 0)) == (33.3, 66.7, 0.0, None)
    assert (pct(Fraction(5, 16)), pct(None)) == (31.3, None)
    assert formulas.Rate(5, 16).pct == 31.3
    assert formulas.Rate(181, 400).pct == 45.3


# --- the published rates on a small portfolio ---------------------------------------------------

# Signed A–F, G registered under construction, H 调出 on 2023-05-01:
#   A 履约 only; B 履约 and started; C started without a recorded 履约 (a start implies it);
#   D produced; E signed, nothing else; F cancelled (终止) while 履约; G direct start; H 调出.
# Planned starts in 2023 by 30 June: B (03-01), D (02-01), E (04-01), F (05-15), G (06-30);
# A's is in July (not yet due), C's in 2022 (another year), H's leaves with H.
SMALL = [
    project("A", fulfilled=True, planned_start=D(2023, 7, 15)),
    project("B", fulfilled=True, started=True, planned_start=D(2023, 3, 1)),
    project("C", started=True, planned_start=D(2022, 12, 1)),
    project("D", produced=True, planned_start=D(2023, 2, 1)),
    project("E", planned_start=D(2023, 4, 1)),
    project("F", fulfilled=True, cancelled=True, planned_start=D(2023, 5, 15)),
    project("G", signed=False, signed_on=None, started=True, planned_start=D(2023, 6, 30)),
    project("H", fulfilled=True, started=True, withdrawn=True, planned_start=D(2023, 3, 1)),
]


def test_sign_to_fulfil_fulfil_to_start_and_planned_start_of_a_small_portfolio() -> None:
    rates = published_rates(SMALL, year=2023, as_of=D(2023, 6, 30))
    # Signed, not 调出: A B C D E F → 履约 or later A B C D F: 5/6 = 83.3 %.
    assert (rates.sign_to_fulfil.numerator, rates.sign_to_fulfil.denominator) == (5, 6)
    assert rates.sign_to_fulfil.pct == 83.3
    # Of A B C D F, started B C D: 3/5 = 60 %.
    assert (rates.fulfil_to_start.numerator, rates.fulfil_to_start.denominator) == (3, 5)
    assert rates.fulfil_to_start.pct == 60.0
    # 应开工 B D E F G, 已开工 B D G: 3/5.
    assert (rates.planned_start.numerator, rates.planned_start.denominator) == (3, 5)
    # At year end A is due too (and not started): 3/6 = 50 %.
    later = published_rates(SMALL, year=2023, as_of=D(2023, 12, 31))
    assert (later.planned_start.numerator, later.planned_start.denominator) == (3, 6)
    # The chain leaves H out as well: signed A–F, started B C D → 3/6.
    chain = cumulative_rates(SMALL)
    assert (chain.sign_to_start.numerator, chain.sign_to_start.denominator) == (3, 6)


def test_withdrawn_leaves_the_denominators_from_its_effective_day_on() -> None:
    def facts(as_of: dt.date, *, withdrawn: bool) -> formulas.ProjectFacts:
        return formulas.facts_as_of(
            project_id="x",
            signed=True,
            signed_on=D(2023, 1, 28),
            fulfilled_date=D(2023, 3, 1),
            started_date=None,
            production_date=None,
            effective_date=None,
            cancelled_on=D(2023, 9, 1),
            withdrawn=withdrawn,
            is_manufacturing=False,
            total_investment=1,
            contract_amount=None,
            planned_start_date=D(2023, 6, 1),
            as_of=as_of,
        )

    for day, base in ((D(2023, 8, 31), 1), (D(2023, 9, 1), 0)):
        withdrawn = facts(day, withdrawn=True)
        assert withdrawn.fulfilled
        rates = published_rates([withdrawn], year=2023, as_of=day)
        assert rates.sign_to_fulfil.denominator == base, day
        assert rates.planned_start.denominator == base, day
        assert cumulative_rates([withdrawn]).sign_to_start.denominator == base, day
        listed = [formulas.ListingFacts("x", 7, BatchType.SIGN, 1)]
        assert cohort_rates({"x": withdrawn}, listed).sign_to_start.denominator == base, day
        # A 终止 (not 调出) stays: a signing that failed is a conversion that failed.
        failed = facts(day, withdrawn=False)
        assert published_rates([failed], year=2023, as_of=day).sign_to_fulfil.denominator == 1


def test_funds_arrival_is_the_latest_reported_funds_over_the_signed_amount() -> None:
    def signing(pid: str, contract: int | None, funds: dict[dt.date, int]) -> formulas.ProjectFacts:
        return formulas.facts_as_of(
            project_id=pid,
            signed=True,
            signed_on=D(2023, 1, 10),
            started_date=None,
            production_date=None,
            effective_date=None,
            cancelled_on=None,
            is_manufacturing=False,
            total_investment=20_000,
            contract_amount=contract,
            funds=funds,
            as_of=D(2023, 4, 30),
        )

    portfolio = [
        signing("a", 10_000, {D(2023, 3, 31): 4_000, D(2023, 5, 31): 6_000}),  # May not yet
        signing("b", None, {D(2023, 4, 10): 3_000}),  # no 签约额: its 总投资 20,000
        signing("c", 16_000, {}),  # nothing reported
    ]
    rate = published_rates(portfolio, year=2023, as_of=D(2023, 4, 30)).funds_arrival
    assert (rate.numerator, rate.denominator, rate.pct) == (7_000, 46_000, 15.2)


# --- over the API: as-of stability, 调出, bad input ----------------------------------------------


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        yield client


async def test_figures_as_of_a_past_day_do_not_change_when_projects_are_cancelled_later(
    registry: httpx.AsyncClient,
) -> None:
    await open_period(registry, 7, "2023-01-28")
    ids = []
    for n in range(6):
        body = await create(
            registry,
            name=f"项目{n}",
            signed_date="2023-01-20",
            planned_fulfill_date="2023-02-20",
            planned_start_date="2023-03-01",
        )
        ids.append(body["id"])
        assert (await list_on(registry, body["id"], 7, "SIGN")).status_code == 201
    await stage_changed(registry, ids[0], "FULFILLING", "2023-02-10")
    await stage_changed(registry, ids[1], "FULFILLING", "2023-02-15")
    await stage_changed(
        registry, ids[1], "UNDER_CONSTRUCTION", "2023-03-05", from_stage="FULFILLING"
    )
    await stage_changed(registry, ids[2], "UNDER_CONSTRUCTION", "2023-04-01")

    async def figures(as_of: str) -> dict[str, Any]:
        response = await registry.get("/v1/indicators", params={"year": 2023, "as_of": as_of})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    before = {day: await figures(day) for day in ("2023-03-31", "2023-05-31")}
    first = before["2023-05-31"]["published"]
    assert first["sign_to_fulfil"]["numerator"] == 3
    assert first["sign_to_fulfil"]["denominator"] == 6
    assert first["planned_start"]["pct"] == 33.3

    # Later: one project 终止 (effective 2023-06-10), two 调出 (one effective 2023-06-20, one
    # backdated by its decision to 2023-04-15).
    for pid, reason, day in (
        (ids[3], "INVESTOR_FUNDING", "2023-06-10"),
        (ids[4], "WITHDRAWN", "2023-06-20"),
        (ids[5], "WITHDRAWN", "2023-04-15"),
    ):
        cancel = {"reason_code": reason, "reason": "年底调出", "effective_date": day}
        response = await registry.post(f"/v1/projects/{pid}/cancel", json=cancel)
        assert response.status_code == 200, response.text
        await stage_changed(registry, pid, "CANCELLED", day, reason="CANCELLED")

    assert await figures("2023-03-31") == before["2023-03-31"]  # before every decision
    # From 15 April on, the backdated 调出 is out of the denominators; the others stay until theirs.
    may = (await figures("2023-05-31"))["published"]
    assert may["sign_to_fulfil"]["denominator"] == 5
    june = await figures("2023-06-30")
    published, chain = june["published"], june["cumulative"]
    # Signed, not 调出 by 30 June: 0 1 2 3 (the 终止 one stays) → 履约 or later 0 1 2: 3/4.
    assert published["sign_to_fulfil"] == {
        "numerator": 3, "denominator": 4, "rate": 0.75, "pct": 75.0
    }  # fmt: skip
    assert chain["sign_to_start"]["denominator"] == 4
    assert june["periods"][0]["cohort"]["sign_to_start"]["denominator"] == 4
    # The list itself is history: six projects were signed at the 7th period.
    assert june["periods"][0]["batches"]["SIGN"]["count"] == 6


async def test_funds_arrival_follows_the_progress_reports_as_of_each_day(
    registry: httpx.AsyncClient,
) -> None:
    a = (await create(registry, name="甲", signed_date="2023-01-10", contract_amount=10_000))["id"]
    b = await create(
        registry,
        name="乙",
        signed_date="2023-01-10",
        total_investment=20_000,
        contract_amount=None,
        annual_plan_investment=None,
    )
    await funds_reported(registry, a, "2023-03", 4_000)
    await funds_reported(registry, a, "2023-05", 5_000)
    await funds_reported(registry, a, "2023-05", 6_000)  # a correction of May replaces it
    await funds_reported(registry, b["id"], "2023-04-X1", 3_000)
    await funds_reported(registry, b["id"], "2023-06", None)  # no figure: the April one stands

    async def funds(as_of: str) -> tuple[int, int, float | None]:
        body = (await registry.get("/v1/indicators", params={"as_of": as_of})).json()
        rate = body["published"]["funds_arrival"]
        return rate["numerator"], rate["denominator"], rate["pct"]

    assert await funds("2023-02-28") == (0, 30_000, 0.0)
    assert await funds("2023-04-30") == (7_000, 30_000, 23.3)
    assert await funds("2023-06-30") == (9_000, 30_000, 30.0)


async def test_withdrawn_without_a_date_is_refused_naming_the_field(
    registry: httpx.AsyncClient,
) -> None:
    pid = (await create(registry, name="调出项目"))["id"]
    cancel = {"reason_code": "WITHDRAWN", "reason": "客观原因调出"}
    response = await registry.post(f"/v1/projects/{pid}/cancel", json=cancel)
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["field"] == "effective_date"
    assert "调出" in problem["reason"]
    assert "生效日期" in problem["reason"]
    assert (await registry.get(f"/v1/projects/{pid}")).json()["cancelled_on"] is None
    # 终止 keeps its default (today).
    other = {"reason_code": "OTHER", "reason": "企业放弃"}
    assert (await registry.post(f"/v1/projects/{pid}/cancel", json=other)).status_code == 200


@pytest.mark.parametrize("as_of", ["2023-02-30", "2023/06/30", "昨天", "20230630x"])
async def test_an_as_of_that_does_not_parse_is_refused_in_chinese(
    registry: httpx.AsyncClient, as_of: str
) -> None:
    response = await registry.get("/v1/indicators", params={"as_of": as_of})
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["field"] == "query.as_of"
    assert problem["reason"].startswith("日期应为 YYYY-MM-DD")
    assert as_of in problem["reason"]


# --- 序时进度 once --------------------------------------------------------------------------------


def _r04_expected_pct(day: dt.date) -> float:
    """R04's 序时进度 on the last day of a 旬, read off its gap when nothing was completed."""
    plan = PlanFact(day.year, 36_000)
    period = ReportPeriod(day.year, day.month, min(3, (day.day - 1) // 10 + 1))
    assert period.end == day
    facts = ProjectFacts(
        project_id="p1",
        name="测试项目",
        park="梧桐",
        total_investment=100_000,
        known_from=D(day.year, 1, 1),
        stages=(StageFact(Stage.UNDER_CONSTRUCTION, D(day.year, 1, 1)),),
        reports=(ReportFact(period, 0, 0, None, day),),
        plans=(plan,),
    )
    alerts = evaluate_project(facts, day, RuleSettings(), Deadlines())
    [r04] = [a for a in alerts if a.key == f"R04:p1:{ReportPeriodKind.XUN}"]
    assert r04.severity in (Severity.YELLOW, Severity.RED)
    assert r04.metric_value is not None
    return r04.metric_value


async def test_r04_and_the_indicators_show_the_same_time_progress_on_the_same_day(
    tmp_path: Path,
) -> None:
    assert formulas.time_progress is time_progress  # one definition
    days = [
        ReportPeriod(year, month, xun).end
        for year in (2023, 2024)
        for month in (4, 6, 9, 12)
        for xun in (1, 2, 3)
    ]
    async with registry_client(
        tmp_path, clock=FixedClock(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    ) as client:
        for day in days:
            response = await client.get("/v1/indicators", params={"as_of": day.isoformat()})
            panel = response.json()["time_progress_pct"]
            alert = _r04_expected_pct(day)
            # The same fraction of the year, the alert to two decimals, the panel to one (counting
            # whole 旬 put R04 up to 2 points away: 8/36 = 22.2 % against 79/365 = 21.6 %).
            assert abs(alert - float(time_progress(day)) * 100) <= 0.005, (day, alert)
            assert panel == half_up(time_progress(day) * 100)
            assert abs(alert - panel) < 0.06, (day, alert, panel)


# --- the docs' figures, recomputed -----------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs"
FRACTION_SHOWN = re.compile(r"(\d+)\s?/\s?(\d+)\s+=\s+(\d+(?:\.\d)?)\s?%")


@pytest.mark.parametrize("page", ["zh/domain.md", "domain.md"])
def test_the_docs_indicator_figures_are_what_the_code_computes(page: str) -> None:
    text = (DOCS / page).read_text()
    shown = {(int(a), int(b)): float(x) for a, b, x in FRACTION_SHOWN.findall(text)}
    # The 两江 rates, Kaifeng's planned starts, the half-up examples and a 序时进度.
    assert set(shown) >= {(2454, 3086), (2154, 2454), (168, 186), (5, 16), (181, 400), (181, 365)}
    for (numerator, denominator), pct_shown in shown.items():
        assert pct_of(numerator, denominator) == pct_shown, (page, numerator, denominator)
    # 两江's counts through the formulas: 632 signed only, 300 started, 2154 producing.
    liangjiang = (
        [project(f"s{i}") for i in range(632)]
        + [project(f"c{i}", started=True) for i in range(300)]
        + [project(f"p{i}", produced=True) for i in range(2154)]
    )
    rates = cumulative_rates(liangjiang)
    assert (rates.sign_to_start.pct, rates.start_to_production.pct) == (
        shown[(2454, 3086)],
        shown[(2154, 2454)],
    )
    assert half_up(time_progress(D(2023, 6, 30)) * 100) == shown[(181, 365)]
