"""The demo progress generator: reproducible, shaped like docs/domain.md#district-demo, and triggering every rule."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sanpi.client.demo_progress import (
    DemoProject,
    Profile,
    ProgressHistory,
    generate_history,
    generate_portfolio,
    post_portfolio,
    s_curve,
    seasonal_share,
)
from sanpi.client.sdk.base import Http
from sanpi.client.sdk.milestone import MilestoneApi
from sanpi.events import AlertRule, MilestoneKind, ProjectRegistered, Stage, build_record
from sanpi.events.xun import parse_period
from sanpi.kit import FixedClock, Role
from sanpi.milestone.app import create_app
from sanpi.milestone.progress import repository as reports
from sanpi.milestone.rules import service as rules_service
from sanpi.milestone.rules.evaluation import Deadlines, evaluate_project
from sanpi.milestone.rules.facts import (
    MilestoneFact,
    PlanFact,
    ProjectFacts,
    ReportFact,
    StageFact,
)
from sanpi.milestone.settings import MilestoneSettings, RuleSettings
from tests.support.apps import auth
from tests.support.milestone import FakeRecord, at

D = dt.date
UNTIL = D(2024, 6, 30)
IMPLEMENTED = {
    AlertRule.R02,
    AlertRule.R04,
    AlertRule.R05,
    AlertRule.R06,
    AlertRule.R07,
    AlertRule.R09,
    AlertRule.R11,
    AlertRule.R16,
    AlertRule.R17,
}


class Reads:
    """The report reads of a pass, in the order they were asked for, and the most that were
    in flight together."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def spy(self, read: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
        async def recorded(*args: Any, **kwargs: Any) -> Any:
            self.names.append(name)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                return await read(*args, **kwargs)
            finally:
                self.in_flight -= 1

        return recorded


def portfolio() -> list[DemoProject]:
    projects = []
    for i in range(12):
        signed = D(2022, 10, 1) + dt.timedelta(days=30 * i)
        start = signed + dt.timedelta(days=60)
        production = start + dt.timedelta(days=300 + 20 * i)  # some already past on UNTIL
        projects.append(
            DemoProject(
                project_id=f"d{i:02d}",
                total_investment=50_000 + 10_000 * i,
                signed=signed,
                planned_start=start,
                planned_production=production,
                started=start,
            )
        )
    projects.append(
        DemoProject("d-late-start", 80_000, D(2023, 6, 1), planned_start=D(2023, 10, 1))
    )
    return projects


def facts_of(project: DemoProject, history: ProgressHistory) -> ProjectFacts:
    """What the milestone service would hold after `post_history` (the same shapes)."""
    stages = [StageFact(Stage.SIGNED, project.signed)]
    if history.started:
        stages.append(StageFact(Stage.UNDER_CONSTRUCTION, history.started))
    if history.suspended:
        stages.append(StageFact(Stage.SUSPENDED, history.suspended))
    highest = 0
    reports = []
    for r in history.reports:
        reports.append(
            ReportFact(
                parse_period(r.period_key),
                r.cum,
                r.ytd,
                r.physical_pct,
                r.submitted_on,
                lowered_by_correction=r.correction and r.cum < highest,
            )
        )
        highest = max(highest, r.cum)
    return ProjectFacts(
        project_id=project.project_id,
        name=project.project_id,
        park="梧桐",
        total_investment=project.total_investment,
        known_from=project.signed,
        signed_date=project.signed,
        planned_start=project.planned_start,
        planned_production=project.planned_production,
        stages=tuple(stages),
        milestones=(
            # the plan the service builds from the registry's dates, then the demo's forecasts
            MilestoneFact(
                MilestoneKind.STARTED, baseline=project.planned_start, actual=project.started
            ),
            MilestoneFact(MilestoneKind.IN_PRODUCTION, baseline=project.planned_production),
            *(MilestoneFact(MilestoneKind(n.kind), baseline=n.forecast) for n in history.nodes),
        ),
        reports=tuple(reports),
        plans=tuple(PlanFact(y, sum(m), monthly=m) for y, m in history.plans.items()),
    )


def fired(projects: list[DemoProject], histories: list[ProgressHistory]) -> dict[str, set[str]]:
    by_rule: dict[str, set[str]] = {}
    for project, history in zip(projects, histories, strict=True):
        for alert in evaluate_project(
            facts_of(project, history), UNTIL, RuleSettings(), Deadlines()
        ):
            by_rule.setdefault(alert.rule, set()).add(project.project_id)
    return by_rule


def test_the_curve_and_the_plan_split() -> None:
    assert s_curve(0) == 0
    assert s_curve(1) == 1
    values = [s_curve(x / 20) for x in range(21)]
    assert values == sorted(values)
    history = generate_history(
        DemoProject("p", 100_000, signed=dt.date(2024, 1, 5), started=dt.date(2024, 5, 10),
                    planned_production=dt.date(2025, 5, 10)),
        until=dt.date(2025, 3, 31), profile=Profile.ON_PLAN, seed=1,
    )  # fmt: skip
    plan_2024 = history.plans[2024]
    assert plan_2024[:4] == (0, 0, 0, 0), "nothing is planned before the start"
    assert all(m > 0 for m in plan_2024[4:])
    assert sum(history.plans[2024]) + sum(history.plans[2025]) <= 100_000


def test_the_plan_split_is_light_in_january_and_february() -> None:
    """docs/domain.md#district-demo: plan splits with Q1 ≈ 25–35 % of the year. A project building
    all year plans 28 % by March's end, half of it in March (January and February are light);
    one finishing in late March plans about half of its year by February's end. The split used
    to be the S-curve alone: 22.4 % by the end of Q1 for the first, 88.7 % by the end of
    February for the second (the demo bulletin's "94.7 % by early March")."""

    def shares(start: dt.date, end: dt.date) -> tuple[float, float]:
        history = generate_history(
            DemoProject("p", 500_000, signed=start, started=start, planned_production=end),
            until=dt.date(2023, 12, 31), profile=Profile.ON_PLAN, seed=1,
        )  # fmt: skip
        months = history.plans[2023]
        return sum(months[:2]) / sum(months), sum(months[:3]) / sum(months)

    by_february, by_march = shares(dt.date(2022, 6, 1), dt.date(2024, 6, 1))
    assert 0.25 <= by_march <= 0.35
    assert by_february <= by_march / 2 + 0.01
    by_february, _ = shares(dt.date(2022, 4, 1), dt.date(2023, 3, 25))
    assert 0.45 <= by_february <= 0.6
    # No step at New Year: the years join (a day's progress, not a jump).
    span = (dt.date(2022, 6, 1), dt.date(2024, 6, 1))
    step = seasonal_share(*span, dt.date(2023, 1, 1)) - seasonal_share(*span, dt.date(2022, 12, 31))
    assert 0 < step < 0.003


def test_generation_is_reproducible_with_a_seed() -> None:
    projects = portfolio()
    first = generate_portfolio(projects, until=UNTIL, seed=7)
    assert generate_portfolio(projects, until=UNTIL, seed=7) == first
    assert generate_portfolio(projects, until=UNTIL, seed=8) != first


def test_histories_are_well_formed() -> None:
    histories = generate_portfolio(portfolio(), until=UNTIL, seed=7)
    reports = [r for h in histories for r in h.reports]
    assert len(reports) > 300
    for history in histories:
        highest = 0
        for r in history.reports:
            assert r.submitted_on <= UNTIL
            assert 0 <= r.ytd <= r.cum
            assert r.cum >= highest or r.correction, "a fall is always a flagged correction"
            highest = max(highest, r.cum)
    late = sum(r.submitted_on > parse_period(r.period_key).deadline() for r in reports)
    assert 0.02 < late / len(reports) < 0.2  # docs/domain.md#district-demo: about 8 %
    assert {h.profile for h in histories} >= {*Profile} - {Profile.ON_PLAN}


def test_every_implemented_rule_fires_on_the_demo_day() -> None:
    projects = portfolio()
    for seed in (1, 7, 42):
        by_rule = fired(projects, generate_portfolio(projects, until=UNTIL, seed=seed))
        assert set(by_rule) >= IMPLEMENTED, (seed, IMPLEMENTED - set(by_rule))


def test_posting_the_histories_through_the_api_fires_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also a full pass of many chunks: each chunk's recent reports are read while the rules of
    the chunk before run, and a project that needs every report is read in between."""
    monkeypatch.setattr(rules_service, "CHUNK", 4)
    reads = Reads()
    for name in ("recent_report_facts", "report_facts"):
        monkeypatch.setattr(reports, name, reads.spy(getattr(reports, name), name))
    projects = portfolio()
    histories = generate_portfolio(projects, until=UNTIL, seed=7)
    expected = fired(projects, histories)
    settings = MilestoneSettings(
        data_dir=tmp_path, kafka_enabled=False, evaluation_interval_s=0, evaluate_on_events=False
    )
    app = create_app(settings, FixedClock(at(D(2024, 7, 1))))
    with warnings.catch_warnings():
        # Starlette's sync TestClient (the SDK is synchronous) warns that it prefers httpx2.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    with TestClient(app, base_url="http://milestone.test") as client:
        headers = auth(Role.ADMIN, subject="demo")
        client.headers.update(headers)
        consumer = app.state.runtime.consumer
        for p in projects:
            data = ProjectRegistered(
                project_id=p.project_id,
                version=1,
                name=p.project_id,
                park="梧桐",
                total_investment=p.total_investment,
                stage=Stage.SIGNED,
                signed_date=p.signed,
                planned_start_date=p.planned_start,
                planned_production_date=p.planned_production,
            )
            _event, record = build_record(data, source="/sanpi/registry")
            client.portal.call(consumer.process, FakeRecord(record.value, record.key))  # type: ignore[union-attr]
        # The SDK sends its own token with every call, over the client's headers.
        http = Http(headers["Authorization"].removeprefix("Bearer "), 30)
        http.client = client
        calls = post_portfolio(MilestoneApi(http, "http://milestone.test"), histories)
        assert calls > 300
        assert post_portfolio(MilestoneApi(http, "http://milestone.test"), histories) == calls
        reads.names.clear()
        result = client.post(
            "/v1/admin/evaluate", params={"as_of": UNTIL.isoformat(), "pin": "true"}
        )
        assert result.status_code == 200
        names = reads.names
        assert names.count("recent_report_facts") == -(-len(projects) // 4)
        # A project that needed every report, in a chunk whose next one was being read ahead,
        # and that read waited for the read ahead: a connection takes one statement at a time.
        last_ahead = len(names) - 1 - names[::-1].index("recent_report_facts")
        assert "report_facts" in names[:last_ahead], names
        assert reads.most_in_flight == 1
        firing = client.get("/v1/alerts", params={"state": "FIRING", "limit": 500}).json()
        by_rule: dict[str, set[str]] = {}
        for alert in firing["items"]:
            by_rule.setdefault(alert["rule"], set()).add(alert["project_id"])
        assert by_rule == expected, json.dumps(
            {k: sorted(v) for k, v in by_rule.items()}, ensure_ascii=False
        )
