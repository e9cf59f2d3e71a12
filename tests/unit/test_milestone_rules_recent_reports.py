"""Evaluation loads only recent reports: the repository's cut and the reload when a rule needs
older ones, through the service and its database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import event

from sanpi.events.xun import parse_period
from sanpi.milestone.progress import repository as progress
from tests.support.milestone import Milestones, milestone_service
from tests.unit.test_milestone_alerts import started_with_plan

D = dt.date
MONTHS = [f"2023-{m:02d}" for m in range(3, 11)]


async def month(
    svc: Milestones,
    key: str,
    cum: int,
    pct: float | None,
    correction: bool = False,
    project: str = "p1",
) -> None:
    body = {
        "period_key": key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": cum,
        "physical_progress_pct": pct,
        "correction": correction,
    }
    response = await svc.post(f"{project}/progress", body)
    assert response.status_code == 201, response.text


async def test_recent_reports_and_the_highest_older_figures(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 11, 3)) as svc:
        await started_with_plan(svc)
        await started_with_plan(svc, "p2")
        for n, key in enumerate(MONTHS):
            # p1's figures rise then fall back; p2 reports only until June.
            await month(svc, key, 1_000 * min(n, 8 - n), 10.0 * min(n, 8 - n), correction=n > 4)
            if key <= "2023-06":
                await month(svc, key, 7, None, project="p2")
        since = D(2023, 8, 1)
        async with svc.runtime.db.read() as session:
            every = (await progress.report_facts(session, ["p1", "p2", "p3"])).rows
            found = await progress.recent_report_facts(session, ["p1", "p2", "p3"], since)
    recent = [r for r in found.rows if r[1] is not None]
    assert sorted(recent) == sorted(r for r in every if parse_period(str(r[1])).end >= since)
    assert {r[1] for r in recent} == {"2023-08", "2023-09", "2023-10"}
    assert {found.day(r[5]) for r in recent if r[0] == "p1"} == {D(2023, 11, 3)}
    # p1 before August: 0, 1, 2, 3, 4 (July), i.e. 4,000 and 40 %; p2: 7 and no progress figure.
    assert sorted(
        (pid, cum, pct) for pid, key, cum, _, pct, _, _, _ in found.rows if key is None
    ) == [
        ("p1", 4_000, 40.0),
        ("p2", 7, None),
    ]


async def test_figures_unchanged_for_longer_than_the_window_reload_every_report(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, today=D(2023, 11, 3), evaluate_on_events=False) as svc:
        await started_with_plan(svc)
        for n, key in enumerate(MONTHS):
            # 旬 reports too: without them R07 alone would ask for the older reports.
            for period in (f"{key}-X1", f"{key}-X2", f"{key}-X3", key):
                await month(svc, period, 5_000 if n >= 1 else 1_000, 20.0 if n >= 1 else 5.0)
        await svc.evaluate(D(2023, 11, 3))
        stalled = [
            a for a in (await svc.client.get("/v1/alerts")).json()["items"] if a["rule"] == "R06"
        ]
    # Unchanged since the April 上旬 report (10 April) to October's (31 October): 204 days, of
    # which the 90-day window alone (reports from 5 August: 10 August on) would show 82.
    assert [(a["severity"], a["metric_value"]) for a in stalled] == [("red", 204.0)]


async def test_a_report_and_its_evaluation_pass_select_the_project_once_each(
    tmp_path: Path,
) -> None:
    # No background job: the gauges' refresh (its traffic lights join the active projects) and
    # the sweep (a mark older than evaluation_sweep_s, on a loaded machine) select the project
    # on their own schedule, a third select in the window (PostgreSQL pass, loaded machine).
    # Their intervals here are the shortest: with the jobs on, every run would count theirs.
    async with milestone_service(
        tmp_path,
        today=D(2023, 11, 3),
        jobs=(),
        metrics_refresh_s=0.001,
        evaluation_sweep_s=0.001,
    ) as svc:
        await started_with_plan(svc)
        selects: list[str] = []

        def seen(*args: Any) -> None:
            statement: str = args[2]
            if statement.startswith("SELECT") and "FROM tracked_project" in statement:
                selects.append(statement)

        engine = svc.runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", seen)
        await month(svc, "2023-10", 5_000, 20.0)
        event.remove(engine, "before_cursor_execute", seen)
        # The evaluation after commit ran before the answer (p1 is behind its plan) …
        assert any(
            a["project_id"] == "p1" for a in (await svc.client.get("/v1/alerts")).json()["items"]
        )
    # … with one select of the project in the report's transaction and one in the evaluation
    # pass's (shared by every report it evaluates: see test_milestone_coalesced).
    assert len(selects) == 2
