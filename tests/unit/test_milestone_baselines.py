"""Named baselines: an approved plan change keeps the original plan, the rules measure against the
new dates and report the slip from the original, and GET …/baselines compares them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from sanpi.client.cli import app as cli
from sanpi.events import build_record
from sanpi.kit import FixedClock, Outcome, Role
from sanpi.milestone.app import create_app
from sanpi.milestone.settings import MilestoneSettings
from tests.support.apps import auth, token
from tests.support.milestone import (
    FakeRecord,
    Milestones,
    at,
    milestone_service,
    registration,
)
from tests.support.threaded import serve_in_thread

D = dt.date
PHOTO = {"uri": "https://evidence.example/site.jpg", "taken_at": "2023-03-01"}
MID_YEAR = "2023年中调整"


async def approve(svc: Milestones, name: str, reason: str, **dates: str) -> dict[str, Any]:
    items = []
    for milestone, day in dates.items():
        kind, _, label = milestone.partition("__")
        items.append({"kind": kind, "label": label, "date": day})
    response = await svc.client.post(
        "/v1/projects/p1/baselines", json={"name": name, "reason": reason, "dates": items}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def row(comparison: dict[str, Any], milestone: str) -> dict[str, Any]:
    return next(r for r in comparison["milestones"] if r["milestone"] == milestone)


async def test_baselines_keep_the_original_and_compare_every_approved_change(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register()  # planned start 2023-03-01, production 2024-06-30
        first = await approve(
            svc, MID_YEAR, "用地手续延迟", STARTED="2023-09-30", IN_PRODUCTION="2024-09-30"
        )
        assert [b["name"] for b in first["baselines"]] == ["原计划", MID_YEAR]
        started = row(first, "STARTED")
        assert started == {
            "milestone": "STARTED",
            "original": "2023-03-01",
            "planned": {MID_YEAR: "2023-09-30"},
            "current": "2023-09-30",
            "actual": None,
            "slip_days": 213,
        }
        again = await approve(svc, "2023年四季度调整", "电力接入推迟", STARTED="2023-12-31")
        comparison = (await svc.client.get("/v1/projects/p1/baselines")).json()
        assert comparison == again
        named = comparison["baselines"][1:]
        assert [(b["name"], b["reason"], b["approved_by"]) for b in named] == [
            (MID_YEAR, "用地手续延迟", "admin-1"),
            ("2023年四季度调整", "电力接入推迟", "admin-1"),
        ]
        assert row(comparison, "STARTED")["planned"] == {
            MID_YEAR: "2023-09-30",
            "2023年四季度调整": "2023-12-31",
        }
        # The later change kept the other milestones' dates of the earlier one.
        assert row(comparison, "IN_PRODUCTION")["planned"] == {
            MID_YEAR: "2024-09-30",
            "2023年四季度调整": "2024-09-30",
        }
        replanned = [e["data"] for e in await svc.events("sanpi.milestone.replanned")]
        assert [(e["kind"], e["forecast_date"], e["reason"]) for e in replanned] == [
            ("STARTED", "2023-09-30", f"{MID_YEAR}: 用地手续延迟"),
            ("IN_PRODUCTION", "2024-09-30", f"{MID_YEAR}: 用地手续延迟"),
            ("STARTED", "2023-12-31", "2023年四季度调整: 电力接入推迟"),
        ]
        timeline = (await svc.client.get("/v1/projects/p1/timeline")).json()["items"]
        assert any(e["event_type"] == "milestone.baseline_approved" for e in timeline), timeline


async def test_rules_measure_against_the_current_plan_and_report_the_slip(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register()
        custom = await svc.client.post(
            "/v1/projects/p1/milestones/CUSTOM/forecast",
            json={"forecast_date": "2023-04-01", "label": "环评批复"},
        )
        assert custom.status_code == 200, custom.text
        started = await svc.post(
            "p1/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]}
        )
        assert started.status_code == 201, started.text
        await approve(
            svc, MID_YEAR, "设计变更", CUSTOM__环评批复="2023-05-01", IN_PRODUCTION="2024-09-30"
        )
        # R05 counts from the approved date (45 days late on 15 June: red) and says how far the
        # plan moved from the original.
        await svc.evaluate(D(2023, 6, 15))
        alerts = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()["items"]
        r05 = next(a for a in alerts if a["rule"] == "R05")
        assert (r05["severity"], r05["metric_value"]) == ("red", 45.0)
        assert "较原计划 2023-04-01 推迟 30 天" in r05["message"], r05["message"]
        # R09: the original production date (30 June 2024) has passed, the approved one has not.
        await svc.evaluate(D(2024, 8, 15))
        alerts = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()["items"]
        assert "R09" not in {a["rule"] for a in alerts}
        await svc.evaluate(D(2024, 12, 15))
        alerts = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()["items"]
        r09 = next(a for a in alerts if a["rule"] == "R09")
        assert (r09["severity"], r09["metric_value"]) == ("orange", 76.0)
        assert "计划投产 2024-09-30, 较原计划 2024-06-30 推迟 92 天" in r09["message"]


async def test_a_change_without_reason_or_dates_or_on_an_achieved_milestone_is_refused(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register()

        async def post(body: dict[str, Any], **headers: str) -> tuple[int, list[str]]:
            response = await svc.client.post(
                "/v1/projects/p1/baselines", json=body, headers=headers
            )
            fields = [e.get("field", "") for e in response.json().get("errors", [])]
            return response.status_code, fields

        dates = [{"kind": "STARTED", "date": "2023-09-30"}]
        assert await post({"name": MID_YEAR, "reason": "  ", "dates": dates}) == (422, ["reason"])
        assert await post({"name": MID_YEAR, "dates": dates}) == (422, ["reason"])
        assert await post({"name": MID_YEAR, "reason": "x", "dates": []}) == (422, ["dates"])
        assert await post({"name": "原计划", "reason": "x", "dates": dates}) == (422, ["name"])
        custom = [{"kind": "CUSTOM", "date": "2023-09-30"}]
        assert await post({"name": MID_YEAR, "reason": "x", "dates": custom}) == (
            422,
            ["dates.0.label"],
        )
        viewer = auth(Role.VIEWER, subject="viewer-1")
        assert (await post({"name": MID_YEAR, "reason": "x", "dates": dates}, **viewer))[0] == 403
        assert (await post({"name": MID_YEAR, "reason": "x", "dates": dates}))[0] == 201
        assert (await post({"name": MID_YEAR, "reason": "again", "dates": dates}))[0] == 409
        signed = [{"kind": "SIGNED", "date": "2023-02-01"}]
        assert (await post({"name": "改签约日", "reason": "x", "dates": signed}))[0] == 409
        missing = await svc.client.get("/v1/projects/nope/baselines")
        assert missing.status_code == 404


def test_the_command_line_approves_and_compares_baselines(tmp_path: Path) -> None:
    settings = MilestoneSettings(data_dir=tmp_path, kafka_enabled=False, evaluation_interval_s=0)
    with serve_in_thread(create_app(settings, FixedClock(at(D(2023, 6, 15))))) as server:
        consumer = server.runtime.consumer
        assert consumer is not None
        _event, record = build_record(registration(), source="/sanpi/registry")
        assert server.run(consumer.process(FakeRecord(record.value, record.key))) is (
            Outcome.PROCESSED
        )
        env = {
            "SANPI_MILESTONE_URL": server.url,
            "SANPI_TOKEN": token(Role.OPERATOR, "wutong-1", ("梧桐",)),
            "COLUMNS": "250",
        }

        def run(*args: str) -> Any:
            return CliRunner().invoke(cli, list(args), env=env)

        bad = run("milestone", "baseline", "p1", "--name", MID_YEAR, "--reason", "x",
                  "--date", "STARTED")  # fmt: skip
        assert (bad.exit_code, "KIND=YYYY-MM-DD" in bad.output) == (2, True), bad.output
        blank = run("milestone", "baseline", "p1", "--name", MID_YEAR, "--reason", " ",
                    "--date", "STARTED=2023-09-30")  # fmt: skip
        assert (blank.exit_code, "reason" in blank.output) == (1, True), blank.output
        approved = run("milestone", "baseline", "p1", "--name", MID_YEAR, "--reason", "用地手续延迟",
                       "--date", "STARTED=2023-09-30", "--date", "IN_PRODUCTION=2024-09-30")  # fmt: skip
        assert approved.exit_code == 0, approved.output
        table = run("milestone", "baselines", "p1")
        assert table.exit_code == 0, table.output
        line = next(x for x in table.output.splitlines() if "STARTED" in x and "2023-03-01" in x)
        assert ("2023-09-30" in line, "213" in line) == (True, True), table.output
        shown = json.loads(run("milestone", "baselines", "p1", "--json").output)
        assert [b["name"] for b in shown["baselines"]] == ["原计划", MID_YEAR]


async def test_a_preview_of_an_earlier_day_judges_the_plan_in_force_that_day(
    tmp_path: Path,
) -> None:
    """ "As of" a day before a named baseline took effect, the milestones keep the plan of that
    day (the original one here); from the day it took effect on, the approved dates."""
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await svc.register()  # planned start 2023-03-01
        svc.clock.set(at(D(2023, 4, 20)))
        await approve(svc, MID_YEAR, "用地手续延迟", STARTED="2023-09-30")
        svc.clock.set(at(D(2023, 6, 15)))
        comparison = (await svc.client.get("/v1/projects/p1/baselines")).json()
        assert comparison["baselines"][1]["effective_on"] == "2023-04-20"

        def rules(body: dict[str, Any]) -> set[str]:
            return {a["rule"] for a in body["alerts"]}

        # The plan of 15 April: the original start (1 March) has passed without a start.
        before = await svc.preview(D(2023, 4, 15))
        assert before["preview"] is True
        assert "R02" in rules(before), before["alerts"]
        # From 20 April on, the approved start (30 September) is ahead.
        after = await svc.preview(D(2023, 4, 25))
        assert "R02" not in rules(after), after["alerts"]
        today = await svc.evaluate(D(2023, 6, 15))
        assert not [k for k in today["raised"] if k.startswith("R02")], today["raised"]
        # Nothing was written by the previews: the alerts are today's pass's only.
        firing = (await svc.client.get("/v1/alerts", params={"state": "FIRING"})).json()
        assert {a["as_of"] for a in firing["items"]} <= {"2023-06-15"}
