"""The demo generators as pure data: reproducible, calibrated to docs/domain.md#demo-and-benchmark-data, consistent with the
registry's listing rules and the milestone state machine."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from sanpi.client.demo.generator import (
    NAMED,
    PARK_WEIGHTS,
    DemoDataset,
    district,
    province,
)
from sanpi.client.demo.loader import province_sheet
from sanpi.events import BatchType, MilestoneKind, PeriodStatus, Stage
from sanpi.milestone.lifecycle.state_machine import Evidence, stage_after_milestone
from sanpi.registry.listings.rules import check_listing

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

SEEDS = range(12)


def amount_listed(data: DemoDataset, period: int, batch: str | None = None) -> int:
    return sum(data.project(x.project_key).amount for x in data.listed(period, batch))


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first, again, other = district(7), district(7), district(8)
    assert [p.body for p in first.projects] == [p.body for p in again.projects]
    assert first.listings == again.listings
    assert [p.body for p in first.projects] != [p.body for p in other.projects]
    assert [p.body for p in province(500, 3).projects] == [
        p.body for p in province(500, 3).projects
    ]


def test_twelve_quarterly_periods_with_the_seventh_on_2023_01_28() -> None:
    data = district()
    assert [p.number for p in data.periods] == list(range(5, 17))
    dates = {p.number: p.event_date for p in data.periods}
    assert dates[7] == dt.date(2023, 1, 28)
    assert dates[5] == dt.date(2022, 7, 1)
    assert dates[16] == dt.date(2025, 4, 1)
    assert all(d.weekday() < 5 for n, d in dates.items() if n != 7)
    assert data.as_of == dates[16]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_batches_on_record(seed: int) -> None:
    data = district(seed)
    # 5th period (ansshj.com): 5 signed 33.4亿 (plan 25.6亿), 3 started 17.1亿, 4 producing 37.1亿.
    assert [len(data.listed(5, b)) for b in ("SIGN", "START", "PRODUCE")] == [5, 3, 4]
    assert amount_listed(data, 5, "SIGN") == 334_000
    assert amount_listed(data, 5, "START") == 171_000
    assert amount_listed(data, 5, "PRODUCE") == 371_000
    plan = sum(
        data.project(x.project_key).body["annual_plan_investment"] for x in data.listed(5, "SIGN")
    )
    assert abs(plan - 256_000) < 10
    # 7th period (seed 004): 12 projects, 160.7亿.
    assert len(data.listed(7)) == 12
    assert amount_listed(data, 7) == 1_607_000


def test_calibration_over_many_seeds() -> None:
    per_period_counts, per_period_yi, signed_2023_yi, mfg_2023, rates = [], [], [], [], []
    for seed in SEEDS:
        data = district(seed)
        for period in data.periods:
            per_period_counts.append(len(data.listed(period.number)))
            per_period_yi.append(amount_listed(data, period.number) / 10_000)
        signed = [p for p in data.projects if not p.direct and p.signed and p.signed.year == 2023]
        signed_2023_yi.append(sum(p.body["contract_amount"] for p in signed) / 10_000)
        mfg_2023.append(sum(1 for p in signed if p.body["is_manufacturing"]))
        end_2024 = dt.date(2024, 12, 31)
        started = [p for p in signed if p.started and p.started <= end_2024]
        rates.append(len(started) / len(signed))
    # docs/domain.md#district-demo: ≈ 12 listings and 90–160亿 a period; ≈ 400亿 signed a year, ≥ 12 manufacturing;
    # 2023 cohort's 签约项目开工率 ≈ 65–80 % at the end of 2024.
    assert 10 <= statistics.mean(per_period_counts) <= 14
    assert 90 <= statistics.mean(per_period_yi) <= 160
    assert 300 <= statistics.median(signed_2023_yi) <= 550
    assert statistics.mean(mfg_2023) >= 12
    assert 0.6 <= statistics.mean(rates) <= 0.85


def test_amounts_are_lognormal_within_bounds_and_parks_weighted() -> None:
    projects = [p for seed in SEEDS for p in district(seed).projects]
    yi = [p.amount / 10_000 for p in projects]
    assert min(yi) > 0  # truncated to [1, 200], then the 5th/7th batches rescaled
    assert max(yi) <= 400
    assert 3 <= statistics.median(yi) <= 9  # LogNormal(μ=1.7): median e^1.7 ≈ 5.5亿
    for park, weight in PARK_WEIGHTS.items():
        share = sum(1 for p in projects if p.body["park"] == park) / len(projects)
        assert abs(share - weight) < 0.08, park
    assert all(
        p.body["contract_amount"] is None or p.body["contract_amount"] <= p.amount for p in projects
    )


def test_the_named_projects_are_on_their_lists() -> None:
    data = district()
    by_name = {p.body["name"]: p for p in data.projects}
    for named in NAMED:
        project = by_name[named.name]
        assert project.body["enterprise"]["name"] == named.enterprise
        assert (named.period, named.batch) in {
            (x.period, x.batch) for x in data.listings if x.project_key == project.key
        }
    assert "7.41万㎡" in by_name["郑州机械研究所高端装备制造产业园"].body["construction_content"]
    assert data.targets == [
        (2023, "郑州高新区", "SIGN_AMOUNT", 4_000_000),
        (2023, "郑州高新区", "NEW_START_INVESTMENT", 2_900_000),
        (2023, "郑州高新区", "MFG_SIGN_AMOUNT", 1_800_000),
        (2023, "郑州高新区", "MFG_SIGN_COUNT", 12),
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_listing_passes_the_registry_rules_in_load_order(seed: int) -> None:
    data = district(seed)
    existing: dict[str, dict[BatchType, int]] = {}
    order = ["SIGN", "START", "PRODUCE"]
    for listing in sorted(data.listings, key=lambda x: (x.period, order.index(x.batch))):
        project = data.project(listing.project_key)
        mine = existing.setdefault(project.key, {})
        check_listing(
            batch=BatchType(listing.batch),
            period=listing.period,
            period_status=PeriodStatus.OPEN_FOR_DECLARATION,
            existing=mine,
            started=project.direct,  # at load time only the registration's stage is known
            cancelled=False,
        )
        mine[BatchType(listing.batch)] = listing.period
    for period in data.periods:
        day = period.event_date
        for x in data.listed(period.number, "SIGN"):
            assert data.project(x.project_key).signed == day
        for x in data.listed(period.number, "START"):
            assert data.project(x.project_key).started == day


@pytest.mark.parametrize("seed", SEEDS)
def test_milestones_follow_the_state_machine(seed: int) -> None:
    data = district(seed)
    for project in data.projects:
        stage = Stage.UNDER_CONSTRUCTION if project.direct else Stage.SIGNED
        previous = dt.date.min
        for kind, day, evidence in project.milestones(data.as_of):
            assert previous <= day <= data.as_of
            moved = stage_after_milestone(
                stage, MilestoneKind(kind), [Evidence(uri) for uri in evidence]
            )
            if kind == "IN_STATISTICS":
                # Recorded, moving nothing: only once the project has started (the API's rule).
                assert moved is None
                assert stage in (Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION), project.key
            else:
                assert moved is not None
                stage = moved
            previous = day


def test_province_set_shape() -> None:
    data = province(2_000, seed=15)
    assert len(data.projects) == 2_000
    assert [p.number for p in data.periods] == list(range(1, 16))
    assert data.periods[6].event_date == dt.date(2023, 1, 28)
    assert data.periods[-1].event_date == dt.date(2025, 1, 5)
    assert 400 <= len(data.parks) <= 700
    counts = {
        b: sum(1 for x in data.listings if x.batch == b) for b in ("SIGN", "START", "PRODUCE")
    }
    # 620 / 800 / 950 a period at 20,000 projects → a tenth of that here, over 15 periods.
    assert 0.8 <= counts["SIGN"] / (62 * 15) <= 1.2
    assert counts["START"] > counts["SIGN"] * 0.8
    assert counts["PRODUCE"] > 0
    sheet = province_sheet(data, data.projects[:3]).decode()
    assert sheet.splitlines()[0].startswith("id,name,park,")
    assert data.project_id(data.projects[0].key) in sheet
