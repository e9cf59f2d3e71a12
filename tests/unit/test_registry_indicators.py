"""Indicator formulas on hand-computed portfolios (incl. 两江's 79.5 % / 87.8 %), and the endpoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from sanpi.events import BatchType, TargetKind
from sanpi.registry.indicators.formulas import (
    ListingFacts,
    Pace,
    ProjectFacts,
    attainments,
    batch_tallies,
    cohort_rates,
    cumulative_rates,
    facts_as_of,
    target_actuals,
    time_progress,
)
from tests.support.registry import (
    create,
    list_on,
    open_period,
    registry_client,
    stage_changed,
)

D = dt.date


def project(
    pid: str,
    *,
    signed: bool = True,
    started: bool = False,
    produced: bool = False,
    effective: bool = False,
    signed_on: dt.date | None = D(2023, 2, 1),
    started_on: dt.date | None = None,
    cancelled: bool = False,
    mfg: bool = False,
    total: int = 100_000,
    contract: int | None = None,
    fulfilled: bool = False,
    withdrawn: bool = False,
    planned_start: dt.date | None = None,
) -> ProjectFacts:
    return ProjectFacts(
        project_id=pid,
        signed=signed,
        signed_on=signed_on,
        started_on=started_on,
        fulfilled=fulfilled or started or produced or effective,
        started=started or produced or effective,
        produced=produced or effective,
        effective=effective,
        cancelled=cancelled or withdrawn,
        withdrawn=withdrawn,
        is_manufacturing=mfg,
        total_investment=total,
        contract_amount=contract,
        planned_start_date=planned_start,
    )


def test_liangjiang_dashboard_rates() -> None:
    """两江新区: 632 signed-not-started, 300 started-not-producing, 2154 producing (docs/domain.md#indicators)."""
    portfolio = (
        [project(f"s{i}") for i in range(632)]
        + [project(f"c{i}", started=True) for i in range(300)]
        + [project(f"p{i}", produced=True) for i in range(2154)]
    )
    rates = cumulative_rates(portfolio)
    assert (rates.sign_to_start.numerator, rates.sign_to_start.denominator) == (2454, 3086)
    assert rates.sign_to_start.pct == 79.5
    assert (rates.start_to_production.numerator, rates.start_to_production.denominator) == (
        2154,
        2454,
    )
    assert rates.start_to_production.pct == 87.8


# A small district portfolio, computed by hand:
#   A signed, started, produced, effective   (mfg, 30亿 total, 签约额 28亿, signed 2023-01-28)
#   B signed, started, produced              (10亿, signed 2023-01-28)
#   C signed, started                        (5亿, signed 2023-05-08, started 2023-09-01)
#   D signed, never started                  (mfg, 8亿, signed 2023-05-08)
#   E signed then cancelled                  (mfg, 4亿, signed 2023-02-10)
#   F registered directly under construction (local, 6亿, started 2023-03-01)
# Lists: 7th SIGN A B E, 7th START F, 8th SIGN C D, 8th START A, 9th PRODUCE A (and F).
HAND = {
    "A": project("A", effective=True, mfg=True, total=300_000, contract=280_000,
                 signed_on=D(2023, 1, 28), started_on=D(2023, 2, 20)),
    "B": project("B", produced=True, total=100_000, signed_on=D(2023, 1, 28),
                 started_on=D(2022, 12, 1)),
    "C": project("C", started=True, total=50_000, signed_on=D(2023, 5, 8),
                 started_on=D(2023, 9, 1)),
    "D": project("D", mfg=True, total=80_000, signed_on=D(2023, 5, 8)),
    "E": project("E", cancelled=True, mfg=True, total=40_000, signed_on=D(2023, 2, 10)),
    "F": project("F", signed=False, started=True, signed_on=None, total=60_000,
                 started_on=D(2023, 3, 1)),
}  # fmt: skip
LISTINGS = [
    ListingFacts("A", 7, BatchType.SIGN, 300_000),
    ListingFacts("B", 7, BatchType.SIGN, 100_000),
    ListingFacts("E", 7, BatchType.SIGN, 40_000),
    ListingFacts("F", 7, BatchType.START, 60_000),
    ListingFacts("C", 8, BatchType.SIGN, 50_000),
    ListingFacts("D", 8, BatchType.SIGN, 80_000),
    ListingFacts("A", 8, BatchType.START, 300_000),
    ListingFacts("A", 9, BatchType.PRODUCE, 300_000),
    ListingFacts("F", 9, BatchType.PRODUCE, 60_000),
]


def test_cumulative_rates_of_the_hand_portfolio() -> None:
    rates = cumulative_rates(list(HAND.values()))
    # signed A B C D E → started A B C: 3/5; started A B C F → produced A B: 2/4; A effective of A B.
    assert (rates.sign_to_start.numerator, rates.sign_to_start.denominator) == (3, 5)
    assert rates.sign_to_start.pct == 60.0
    assert (rates.start_to_production.numerator, rates.start_to_production.denominator) == (2, 4)
    assert (rates.production_to_effective.numerator, rates.production_to_effective.denominator) == (
        1,
        2,
    )


def test_cohort_rates_follow_each_periods_lists() -> None:
    seventh = cohort_rates(HAND, [x for x in LISTINGS if x.period == 7])
    # SIGN A B E → started A B: 2/3; START F → produced: 0/1; no PRODUCE list.
    assert (seventh.sign_to_start.numerator, seventh.sign_to_start.denominator) == (2, 3)
    assert (seventh.start_to_production.numerator, seventh.start_to_production.denominator) == (
        0,
        1,
    )
    assert seventh.production_to_effective.value is None
    eighth = cohort_rates(HAND, [x for x in LISTINGS if x.period == 8])
    assert (eighth.sign_to_start.numerator, eighth.sign_to_start.denominator) == (1, 2)
    assert eighth.start_to_production.pct == 100.0
    ninth = cohort_rates(HAND, [x for x in LISTINGS if x.period == 9])
    assert (ninth.production_to_effective.numerator, ninth.production_to_effective.denominator) == (
        1,
        2,
    )


def test_batch_tallies() -> None:
    tallies = batch_tallies([x for x in LISTINGS if x.period == 7])
    assert (tallies[BatchType.SIGN].count, tallies[BatchType.SIGN].amount) == (3, 440_000)
    assert tallies[BatchType.SIGN].amount_yi == 44.0
    assert (tallies[BatchType.START].count, tallies[BatchType.START].amount_yi) == (1, 6.0)
    assert (tallies[BatchType.PRODUCE].count, tallies[BatchType.PRODUCE].amount) == (0, 0)


def test_target_actuals_count_the_years_signings_and_starts_without_cancelled() -> None:
    actual = target_actuals(HAND.values(), 2023)
    # Signed in 2023, not cancelled: A (签约额 28亿), B 10亿, C 5亿, D 8亿 → 51亿; mfg A + D.
    assert actual[TargetKind.SIGN_AMOUNT] == 280_000 + 100_000 + 50_000 + 80_000
    assert actual[TargetKind.MFG_SIGN_AMOUNT] == 280_000 + 80_000
    assert actual[TargetKind.MFG_SIGN_COUNT] == 2
    # Started in 2023: A, C, F (B started in 2022).
    assert actual[TargetKind.NEW_START_INVESTMENT] == 300_000 + 50_000 + 60_000
    assert target_actuals(HAND.values(), 2022)[TargetKind.NEW_START_INVESTMENT] == 100_000


def test_time_progress_is_the_share_of_the_year_elapsed() -> None:
    assert time_progress(D(2023, 6, 30), 2023) == Fraction(181, 365)
    assert time_progress(D(2024, 12, 31), 2024) == 1
    assert time_progress(D(2024, 2, 29), 2024) == Fraction(60, 366)
    assert time_progress(D(2022, 12, 31), 2023) == 0
    assert time_progress(D(2024, 1, 1), 2023) == 1


def test_attainment_against_time_progress() -> None:
    targets = {TargetKind.SIGN_AMOUNT: 4_000_000, TargetKind.MFG_SIGN_COUNT: 12}
    actual = {TargetKind.SIGN_AMOUNT: 2_200_000, TargetKind.MFG_SIGN_COUNT: 4}
    sign, count = attainments(targets, actual, Fraction(1, 2))
    assert sign.kind is TargetKind.SIGN_AMOUNT
    assert (sign.ratio, sign.gap_pts, sign.pace) == (Fraction(55, 100), 5.0, Pace.AHEAD)
    assert (count.ratio, count.gap_pts, count.pace) == (Fraction(1, 3), -16.7, Pace.BEHIND)
    [nothing] = attainments({TargetKind.MFG_SIGN_COUNT: 0}, {}, Fraction(1, 2))
    assert (nothing.ratio, nothing.pace) == (None, None)


def test_facts_as_of_a_day_and_later_stages_imply_earlier() -> None:
    def facts(as_of: dt.date) -> ProjectFacts:
        return facts_as_of(
            project_id="x",
            signed=True,
            signed_on=D(2023, 1, 28),
            started_date=None,
            production_date=D(2024, 3, 1),
            effective_date=None,
            cancelled_on=None,
            is_manufacturing=False,
            total_investment=1,
            contract_amount=None,
            as_of=as_of,
        )

    assert (facts(D(2023, 1, 1)).signed, facts(D(2023, 1, 1)).started) == (False, False)
    assert (facts(D(2023, 6, 1)).signed, facts(D(2023, 6, 1)).started) == (True, False)
    later = facts(D(2024, 3, 1))
    assert (later.started, later.produced, later.effective) == (True, True, False)


# --- the endpoint over a small ledger -------------------------------------------------------------


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(tmp_path) as client:
        yield client


async def test_indicators_endpoint(registry: httpx.AsyncClient) -> None:
    await open_period(registry, 7, "2023-01-28")
    await open_period(registry, 8, "2023-04-03")
    a = await create(registry, name="A", total_investment=300_000, contract_amount=280_000)
    b = await create(registry, name="B", park="梧桐", is_manufacturing=False, contract_amount=None)
    assert (await list_on(registry, a["id"], 7, "SIGN")).status_code == 201
    assert (await list_on(registry, b["id"], 7, "SIGN")).status_code == 201
    assert (await list_on(registry, a["id"], 8, "START")).status_code == 201
    await stage_changed(registry, a["id"], "UNDER_CONSTRUCTION", "2023-04-03")
    await registry.post(
        "/v1/targets",
        json={"year": 2023, "scope": "郑州高新区", "kind": "SIGN_AMOUNT", "value": 4_000_000},
    )
    body = (await registry.get("/v1/indicators", params={"year": 2023})).json()
    assert body["as_of"] == "2023-06-30"
    assert body["time_progress_pct"] == 49.6
    seventh, eighth = body["periods"]
    assert seventh["batches"]["SIGN"] == {"count": 2, "amount": 420_000, "amount_yi": 42.0}
    assert seventh["total"]["count"] == 2
    assert seventh["cohort"]["sign_to_start"]["pct"] == 50.0
    assert eighth["batches"]["START"]["amount_yi"] == 30.0
    assert body["cumulative"]["sign_to_start"] == {
        "numerator": 1, "denominator": 2, "rate": 0.5, "pct": 50.0
    }  # fmt: skip
    [sign] = body["targets"]
    # 签约额 28亿 + B's 总投资 12亿 (no 签约额) = 40亿 of 400亿: 10 %, 39.6 points behind.
    assert (sign["actual"], sign["attainment_pct"], sign["gap_pts"], sign["pace"]) == (
        400_000,
        10.0,
        -39.6,
        "BEHIND",
    )
    park = (await registry.get("/v1/indicators", params={"year": 2023, "park": "梧桐"})).json()
    assert park["scope"] == "梧桐"
    assert park["periods"][0]["batches"]["SIGN"]["count"] == 1
    earlier = await registry.get("/v1/indicators", params={"as_of": "2023-04-02"})
    assert earlier.json()["cumulative"]["sign_to_start"]["numerator"] == 0
    # The 8th period was held on 3 April: on 2 April its list was not on record.
    assert [p["period"] for p in earlier.json()["periods"]] == [7]
    assert earlier.json()["year_batches"]["START"]["count"] == 0
    unknown = await registry.get("/v1/indicators", params={"park": "火星"})
    assert unknown.status_code == 422
