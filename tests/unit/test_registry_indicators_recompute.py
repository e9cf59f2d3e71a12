"""GET /v1/indicators and the campaign gauges (SQL aggregates, indicators/repository.py) equal a
full recomputation by the Python formulas from every ORM row, over a generated ledger with
registrations on many days, stage changes, master-data edits, cancellations and periods over two
years (SANPI_TEST_DB: both databases)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import asdict
from typing import Any

import httpx
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CancelReason, Stage
from sanpi.events.percent import half_up
from sanpi.kit import CAMPAIGN_TZ, FixedClock
from sanpi.registry.indicators import formulas, jobs
from sanpi.registry.indicators.models import FundsReport
from sanpi.registry.indicators.repository import _started_within
from sanpi.registry.indicators.schemas import (
    AttainmentPublic,
    Indicators,
    PeriodIndicators,
    PublishedRatesPublic,
    RatesPublic,
    batches_public,
)
from sanpi.registry.indicators.service import batch_total
from sanpi.registry.listings.models import Listing
from sanpi.registry.metrics import CampaignSnapshot, add
from sanpi.registry.periods.models import Period
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.service import counted_start
from sanpi.registry.targets.models import Target
from tests.support.registry import (
    create,
    funds_reported,
    list_on,
    open_period,
    registry_client,
    stage_changed,
)

PARKS = ("梧桐", "双桥", "石佛", "枫杨")
DISTRICT = "郑州高新区"
PERIODS = {
    7: "2023-01-28",
    8: "2023-04-03",
    9: "2023-07-10",
    10: "2023-10-09",
    11: "2024-01-20",
    12: "2024-04-08",
}
AS_OF = ("2023-01-01", "2023-03-01", "2023-06-30", "2023-12-31", "2024-05-01", "2024-12-31")
START = dt.datetime(2023, 1, 2, 3, 0, tzinfo=dt.UTC)


def _facts(
    project: Project, as_of: dt.date, funds: dict[str, dict[dt.date, int]] | None = None
) -> formulas.ProjectFacts:
    """A row's facts on `as_of` by the formulas' definition; an undeclared signing day is the
    registration day in Shanghai, the start day is counted_start's."""
    registered = project.created_at.astimezone(CAMPAIGN_TZ).date()
    signed = project.initial_stage is Stage.SIGNED
    return formulas.facts_as_of(
        project_id=project.id,
        signed=signed,
        signed_on=(project.signed_date or registered) if signed else project.signed_date,
        fulfilled_date=project.fulfilled_date,
        started_date=counted_start(project),
        production_date=project.production_date,
        effective_date=project.effective_date,
        cancelled_on=project.cancelled_on,
        withdrawn=project.cancel_reason_code is CancelReason.WITHDRAWN,
        is_manufacturing=project.is_manufacturing,
        total_investment=project.total_investment,
        contract_amount=project.contract_amount,
        planned_start_date=project.planned_start_date,
        funds=(funds or {}).get(project.id),
        as_of=as_of,
    )


async def _funds(session: AsyncSession) -> dict[str, dict[dt.date, int]]:
    """Every project's reported 到位资金 by the last day of each report period."""
    funds: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for row in (await session.exec(select(FundsReport))).all():
        # A month and its 下旬 end on the same day: the higher figure stands for the day.
        held = funds[row.project_id].get(row.period_end, 0)
        funds[row.project_id][row.period_end] = max(held, row.funds_arrived_cum)
    return funds


async def recompute(
    session: AsyncSession, *, year: int, as_of: dt.date, park: str | None
) -> dict[str, Any]:
    """Every figure from every ORM row and the pure formulas: the full recomputation."""
    rows = [p for p in (await session.exec(select(Project))).all() if park in (None, p.park)]
    funds = await _funds(session)
    portfolio = {p.id: _facts(p, as_of, funds) for p in rows}
    listed = [
        formulas.ListingFacts(x.project_id, x.period, x.batch, x.listed_total_investment)
        for x in (await session.exec(select(Listing))).all()
        if x.project_id in portfolio
    ]
    periods = sorted(
        (
            p
            for p in (await session.exec(select(Period))).all()
            if p.event_date.year == year and p.event_date <= as_of  # held by as_of
        ),
        key=lambda p: p.number,
    )
    per_period, year_listed = [], []
    for period in periods:
        mine = [x for x in listed if x.period == period.number]
        year_listed += mine
        tallies = formulas.batch_tallies(mine)
        per_period.append(
            PeriodIndicators(
                period=period.number,
                event_date=period.event_date,
                quarter=period.quarter,
                batches=batches_public(tallies),
                total=batch_total(tallies),
                cohort=RatesPublic.of(formulas.cohort_rates(portfolio, mine)),
            )
        )
    scope = park or DISTRICT
    goals = (await session.exec(select(Target))).all()
    values = {t.kind: t.value for t in goals if t.year == year and t.scope == scope}
    progress = formulas.time_progress(as_of, year)
    attained = formulas.attainments(
        values, formulas.target_actuals(portfolio.values(), year), progress
    )
    return Indicators(
        scope=scope,
        park=park,
        year=year,
        as_of=as_of,
        time_progress_pct=half_up(progress * 100),
        periods=per_period,
        year_batches=batches_public(formulas.batch_tallies(year_listed)),
        cumulative=RatesPublic.of(formulas.cumulative_rates(list(portfolio.values()))),
        published=PublishedRatesPublic.of(
            formulas.published_rates(portfolio.values(), year=year, as_of=as_of)
        ),
        cohort=RatesPublic.of(formulas.cohort_rates(portfolio, year_listed)),
        targets=[AttainmentPublic.of(a) for a in attained],
    ).model_dump(mode="json")


def _day(rng: random.Random, first: str, last: str) -> dt.date:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


async def _generate(
    client: httpx.AsyncClient, clock: FixedClock, rng: random.Random
) -> tuple[int, set[dt.date]]:
    """About 120 projects through the API and the stage consumer; returns how many changed stage,
    and the days (in Shanghai) projects registered on without declaring their signing/start day."""
    for number, event_date in PERIODS.items():
        await open_period(client, number, event_date)
    moved, undeclared = 0, set()
    for n in range(120):
        # Registrations on many days, some in the evening UTC (the next day in Shanghai).
        clock.advance(dt.timedelta(days=rng.randint(0, 6), hours=rng.choice((0, 14, 17))))
        direct_start = rng.random() < 0.2
        total = rng.randint(1_000, 500_000)
        body: dict[str, Any] = {
            "name": f"项目{n:03d}",
            "park": rng.choice(PARKS),
            "total_investment": total,
            "contract_amount": rng.choice((None, rng.randint(500, total))),
            "annual_plan_investment": None,
            "is_manufacturing": rng.random() < 0.5,
            "signed_date": rng.choice((None, _day(rng, "2022-11-01", "2024-10-01").isoformat())),
            "planned_start_date": None,
            "planned_fulfill_date": None,
            "planned_completion_date": None,
            "planned_production_date": None,
            "planned_effective_date": None,
        }
        if rng.random() < 0.7:  # 计划开工 within a year of the signing (or of late 2022)
            after = dt.date.fromisoformat(body["signed_date"] or "2022-12-01")
            planned = after + dt.timedelta(days=rng.randint(0, 365))
            body["planned_start_date"] = planned.isoformat()
        if direct_start:
            body["initial_stage"] = "UNDER_CONSTRUCTION"
            body["started_date"] = rng.choice(
                (None, _day(rng, "2022-12-01", "2024-09-01").isoformat())
            )
        project = await create(client, **body)
        pid = project["id"]
        # The row's created_at is the wall clock's: backdate it to the campaign day registered.
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.transaction() as uow:
            stmt = update(Project).where(col(Project.id) == pid).values(created_at=clock.now())
            await uow.session.exec(stmt)
        if body["signed_date"] is None or body.get("started_date", "") is None:
            undeclared.add(clock.now().astimezone(CAMPAIGN_TZ).date())
        numbers = sorted(PERIODS)
        sign_at = rng.choice(numbers[:-1])
        if not direct_start and rng.random() < 0.8:
            assert (await list_on(client, pid, sign_at, "SIGN")).status_code == 201
        stage = "UNDER_CONSTRUCTION" if direct_start else "SIGNED"
        day = _day(rng, "2023-01-15", "2023-09-30")
        if stage == "SIGNED" and rng.random() < 0.5:  # 履约 (land, capital) before the start
            fulfilled = day - dt.timedelta(days=rng.randint(1, 60))
            await stage_changed(client, pid, "FULFILLING", fulfilled.isoformat())
            stage, moved = "FULFILLING", moved + 1
        if stage in ("SIGNED", "FULFILLING") and rng.random() < 0.6:
            await stage_changed(
                client, pid, "UNDER_CONSTRUCTION", day.isoformat(), from_stage=stage
            )
            stage, moved = "UNDER_CONSTRUCTION", moved + 1
            start_at = rng.choice([p for p in numbers if p > sign_at])
            if rng.random() < 0.7:
                assert (await list_on(client, pid, start_at, "START")).status_code == 201
        if stage == "UNDER_CONSTRUCTION" and rng.random() < 0.5:
            day += dt.timedelta(days=rng.randint(20, 400))
            await stage_changed(
                client, pid, "IN_PRODUCTION", day.isoformat(), from_stage="UNDER_CONSTRUCTION"
            )
            stage, moved = "IN_PRODUCTION", moved + 1
            if rng.random() < 0.6:
                later = [p for p in numbers if p > sign_at + 1]
                if later:
                    response = await list_on(client, pid, rng.choice(later), "PRODUCE")
                    assert response.status_code in (201, 409, 422), response.text
            if rng.random() < 0.4:
                day += dt.timedelta(days=rng.randint(30, 300))
                await stage_changed(
                    client, pid, "EFFECTIVE", day.isoformat(), from_stage="IN_PRODUCTION"
                )
                stage, moved = "EFFECTIVE", moved + 1
        if rng.random() < 0.5:  # 到位资金 in monthly or 旬 reports, some corrected, some empty
            arrived = 0
            for month in sorted(rng.sample(range(1, 25), rng.randint(1, 4))):
                year, m = 2023 + (month - 1) // 12, (month - 1) % 12 + 1
                key = f"{year}-{m:02d}" if rng.random() < 0.6 else f"{year}-{m:02d}-X2"
                arrived += rng.randint(0, 50_000)
                await funds_reported(client, pid, key, rng.choice((arrived, arrived, None)))
                if rng.random() < 0.2:  # a correction of the same period
                    await funds_reported(client, pid, key, arrived + 1_000)
                if rng.random() < 0.3:  # the 下旬, which ends with the month
                    await funds_reported(client, pid, f"{year}-{m:02d}-X3", arrived + 500)
        if rng.random() < 0.4:  # master data edited after registration, at any stage
            total = rng.randint(1_000, 600_000)
            change = {
                "total_investment": total,
                "is_manufacturing": rng.random() < 0.5,
                "contract_amount": rng.choice((None, rng.randint(500, total))),
                "version": (await client.get(f"/v1/projects/{pid}")).json()["version"],
            }
            response = await client.patch(f"/v1/projects/{pid}", json=change)
            assert response.status_code == 200, response.text
        if stage != "EFFECTIVE" and rng.random() < 0.15:
            cancel = {
                "reason_code": rng.choice(("OTHER", "WITHDRAWN")),  # 终止, or 调出
                "reason": "企业放弃",
                "effective_date": _day(rng, "2023-02-01", "2024-11-30").isoformat(),
            }
            response = await client.post(f"/v1/projects/{pid}/cancel", json=cancel)
            assert response.status_code == 200, response.text
    # Periods change state after their lists were made; a closed period still counts.
    assert (await client.post("/v1/periods/7/close")).status_code == 200
    for year in (2023, 2024):
        for scope in (DISTRICT, *PARKS[:2]):
            for kind in ("SIGN_AMOUNT", "NEW_START_INVESTMENT", "MFG_SIGN_COUNT"):
                target = {"year": year, "scope": scope, "kind": kind, "value": 1_000_000}
                assert (await client.post("/v1/targets", json=target)).status_code in (200, 201)
    return moved, undeclared


async def test_indicators_equal_a_full_recomputation(tmp_path: Any) -> None:
    clock = FixedClock(START)
    async with registry_client(tmp_path, clock=clock) as client:
        moved, undeclared = await _generate(client, clock, random.Random(26))
        assert moved > 40  # the ledger really moves: starts, productions, effects
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        # The day before, of and after a registration that stands for the signing or start day:
        # the edges of "registered by as_of" in Shanghai time.
        edges = sorted(undeclared)[:: max(1, len(undeclared) // 6)]
        around = {d + dt.timedelta(days=k) for d in edges for k in (-1, 0, 1)}
        days = [(d.isoformat(), (None,)) for d in sorted(around)]
        compared = 0
        for as_of, parks in [(d, (None, *PARKS)) for d in AS_OF] + days:
            for year in (2023, 2024):
                for park in parks:
                    params: dict[str, Any] = {"year": year, "as_of": as_of}
                    if park is not None:
                        params["park"] = park
                    response = await client.get("/v1/indicators", params=params)
                    assert response.status_code == 200, response.text
                    async with runtime.db.read() as session:
                        expected = await recompute(
                            session, year=year, as_of=dt.date.fromisoformat(as_of), park=park
                        )
                    assert response.json() == expected, (as_of, year, park)
                    compared += 1
        assert compared == len(AS_OF) * 2 * 5 + len(days) * 2
        assert len(days) >= 15
        # Not a comparison of empty figures: the district's late figures count real projects.
        last = (await client.get("/v1/indicators", params={"as_of": "2024-12-31"})).json()
        assert last["cumulative"]["start_to_production"]["denominator"] > 30
        assert last["cumulative"]["production_to_effective"]["numerator"] > 5
        assert any(t["actual"] > 0 for t in last["targets"])
        published = (await client.get("/v1/indicators", params={"as_of": "2023-12-31"})).json()
        published = published["published"]
        assert published["sign_to_fulfil"]["numerator"] > 10
        assert published["fulfil_to_start"]["denominator"] > 10
        assert (
            0 < published["planned_start"]["numerator"] < published["planned_start"]["denominator"]
        )
        async with runtime.db.read() as session:
            rows = (await session.exec(select(Project))).all()
        assert sum(p.cancel_reason_code is CancelReason.WITHDRAWN for p in rows) >= 3  # 调出


def _reference_snapshot(
    rows: list[Project],
    listed: list[Listing],
    goals: list[Target],
    *,
    day: dt.date,
    funds: dict[str, dict[dt.date, int]],
) -> CampaignSnapshot:
    """The campaign gauges by one Python pass over every ORM row (as the refresher computed them
    before its aggregate statements)."""
    snap = CampaignSnapshot()
    for p in rows:
        add(snap.projects, (p.park, str(p.stage)), 1)
        add(snap.investment, (p.park, str(p.stage)), p.total_investment)
        if p.stage is not Stage.CANCELLED:
            if p.chain_tag is not None:
                add(snap.by_chain, (p.park, str(p.chain_tag)), 1)
            if p.category is not None:
                add(snap.by_category, (p.park, str(p.category)), 1)
    park_of = {p.id: p.park for p in rows}
    for x in listed:
        where = (str(x.period), str(x.batch), park_of.get(x.project_id, "unknown"))
        add(snap.listings, where, 1)
        add(snap.listing_investment, where, x.listed_total_investment)
    portfolio: dict[str, list[formulas.ProjectFacts]] = defaultdict(list)
    for p in rows:
        portfolio[p.park].append(_facts(p, day, funds))
    for park, members in portfolio.items():
        rates = formulas.cumulative_rates(members)
        published = formulas.published_rates(members, year=day.year, as_of=day)
        for kind in (
            "sign_to_start",
            "start_to_production",
            "production_to_effective",
            "sign_to_fulfil",
            "fulfil_to_start",
            "planned_start",
            "funds_arrival",
        ):
            rate: formulas.Rate = getattr(rates, kind, None) or getattr(published, kind)
            snap.reached[(kind, park)] = rate.numerator
            snap.base[(kind, park)] = rate.denominator
            if rate.value is not None:
                snap.conversion[(kind, park)] = rate.value
    everyone = [f for members in portfolio.values() for f in members]
    for goal in goals:
        members = everyone if goal.scope == DISTRICT else portfolio.get(goal.scope, [])
        progress = formulas.time_progress(day, goal.year)
        snap.time_progress[(str(goal.year),)] = float(progress)
        actual = formulas.target_actuals(members, goal.year)[goal.kind]
        key = (str(goal.year), goal.scope, str(goal.kind))
        snap.target[key] = goal.value
        snap.achieved[key] = actual
        if goal.value:
            snap.attainment[key] = actual / goal.value
    return snap


async def test_campaign_gauges_equal_a_full_recomputation(tmp_path: Any) -> None:
    clock = FixedClock(START)
    async with registry_client(tmp_path, clock=clock) as client:
        await _generate(client, clock, random.Random(22))
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        for day in ("2023-05-04", "2023-12-31", "2024-06-30"):
            clock.set(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(4), dt.UTC))
            snap = await jobs.refresh(runtime)
            async with runtime.db.read() as session:
                rows = list((await session.exec(select(Project))).all())
                listed = list((await session.exec(select(Listing))).all())
                goals = list((await session.exec(select(Target))).all())
                funds = await _funds(session)
            expected = _reference_snapshot(rows, listed, goals, day=clock.now().date(), funds=funds)
            assert asdict(snap) == asdict(expected), day
        # Not a comparison of empty gauges: by mid-2024 the conversions and targets count.
        assert sum(snap.reached.values()) > 20
        assert len(snap.achieved) == 18
        assert sum(snap.achieved.values()) > 0


def _row(
    name: str,
    created_at: dt.datetime,
    *,
    initial: Stage = Stage.UNDER_CONSTRUCTION,
    stage: Stage | None = None,
    started: dt.date | None = None,
    produced: dt.date | None = None,
) -> Project:
    return Project(
        name=name,
        park="梧桐",
        total_investment=10_000,
        initial_stage=initial,
        stage=stage or initial,
        started_date=started,
        production_date=produced,
        created_by="admin-1",
        created_at=created_at,
    )


MARCH_1 = dt.datetime(2023, 3, 1, tzinfo=dt.UTC)


def _start_day_cases() -> list[tuple[Project, dt.date | None]]:
    """Rows of the start-day rule's cases, each with the day it counts as started from (None:
    not started). New rows each call: a session that stores them also expires them."""
    return [
        # 23:59:59 and 00:00 in Shanghai (UTC+8): the registration days either side of midnight.
        (
            _row("before midnight", MARCH_1 + dt.timedelta(hours=15, minutes=59, seconds=59)),
            dt.date(2023, 3, 1),
        ),
        (_row("at midnight", MARCH_1 + dt.timedelta(hours=16)), dt.date(2023, 3, 2)),
        (_row("evening UTC", MARCH_1 + dt.timedelta(hours=17, minutes=30)), dt.date(2023, 3, 2)),
        # A declared start later, or earlier, than the registration day is the day.
        (_row("declared later", MARCH_1, started=dt.date(2023, 3, 20)), dt.date(2023, 3, 20)),
        (_row("declared earlier", MARCH_1, started=dt.date(2023, 2, 10)), dt.date(2023, 2, 10)),
        # Registered under construction with no start day, in production since: still its
        # registration day (the stage moved on, the rule looks at the stage it registered in).
        (
            _row("moved on", MARCH_1, stage=Stage.IN_PRODUCTION, produced=dt.date(2023, 6, 1)),
            dt.date(2023, 3, 1),
        ),
        # A signing: not started, or started on its STARTED milestone's day, or back under
        # construction without a milestone (a resume) and no start day: never the registration day.
        (_row("signed", MARCH_1, initial=Stage.SIGNED), None),
        (
            _row(
                "signed, started",
                MARCH_1,
                initial=Stage.SIGNED,
                stage=Stage.UNDER_CONSTRUCTION,
                started=dt.date(2023, 3, 5),
            ),
            dt.date(2023, 3, 5),
        ),
        (
            _row("signed, resumed", MARCH_1, initial=Stage.SIGNED, stage=Stage.UNDER_CONSTRUCTION),
            None,
        ),
    ]


async def test_the_start_day_in_sql_is_counted_start(tmp_path: Any) -> None:
    """_started_within (SQL, for the aggregates) and counted_start (the rule) pick the same rows
    for every window, on the database under test."""
    cases = _start_day_cases()
    assert [counted_start(p) for p, _day in cases] == [day for _p, day in cases]
    counted_days = {p.name: day for p, day in cases}
    async with registry_client(tmp_path) as client:
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.transaction() as uow:
            for project, _day in _start_day_cases():
                uow.session.add(project)
        days = [dt.date(2023, m, d) for m, d in ((2, 9), (2, 10), (3, 1), (3, 2), (3, 5), (3, 20))]
        compared = 0
        for last in days:
            for first in [None, *(d for d in days if d <= last)]:
                async with runtime.db.read() as session:
                    stmt = select(col(Project.name)).where(_started_within(first, last))
                    in_sql = set((await session.exec(stmt)).all())
                counted = {
                    name
                    for name, day in counted_days.items()
                    if day is not None and (first is None or first <= day) and day <= last
                }
                assert in_sql == counted, (first, last)
                compared += 1
        assert compared == 27
