"""The milestone commands of the `sanpi` CLI against the running services."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Stack
from tests.e2e.test_cli import sanpi
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_milestone_progress_and_alert_commands(services: Stack) -> None:
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as http:
        created = await http.post(
            f"{services.urls['registry']}/v1/projects",
            json={"name": "中软国际中原数字总部", "park": "石佛", "total_investment": 80_000},
        )
    project_id = created.json()["id"]

    def started() -> str | None:
        result = sanpi(
            services,
            "milestone",
            "post",
            project_id,
            "--kind",
            "STARTED",
            "--date",
            "2023-04-01",
            "--evidence",
            "https://evidence.example/site.jpg@2023-04-01",
            "--json",
        )
        return result.stdout if result.returncode == 0 else None

    posted = json.loads(await eventually(started, what="STARTED accepted"))
    assert posted["evidence_detail"][0]["taken_at"] == "2023-04-01"
    plan = sanpi(services, "progress", "plan", project_id, "--year", "2023", "--annual", "36000")
    assert plan.returncode == 0, plan.stderr
    report = sanpi(
        services,
        "progress",
        "report",
        project_id,
        "--period",
        "2023-05-X3",
        "--cum",
        "1000",
        "--ytd",
        "1000",
        "--problem",
        "用地手续未批",
        "--json",
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["late"] is True
    falling = sanpi(
        services,
        "progress",
        "report",
        project_id,
        "--period",
        "2023-06-X1",
        "--cum",
        "900",
        "--ytd",
        "900",
    )
    assert falling.returncode == 1
    assert "completed_investment_cum" in falling.stderr
    key = f"R04:{project_id}:XUN"
    # Another day than today is a preview: what would fire, nothing stored.
    previewed = sanpi(services, "evaluate", "--as-of", "2023-06-05")
    assert previewed.returncode == 0, previewed.stderr
    preview = json.loads(previewed.stdout)
    assert preview["preview"] is True
    assert key in preview["raised"]
    assert key in {a["alert_key"] for a in preview["alerts"]}
    # Pinned, the day is evaluated for real; unpinned at once, the stack being shared.
    try:
        evaluated = sanpi(services, "evaluate", "--as-of", "2023-06-05", "--pin")
        assert evaluated.returncode == 0, evaluated.stderr
        assert key in json.loads(evaluated.stdout)["raised"]
    finally:
        async with httpx.AsyncClient(headers=services.headers(), timeout=10) as http:
            unpinned = await http.delete(f"{services.urls['milestone']}/v1/admin/evaluate/pin")
        assert unpinned.status_code == 204
    listed = sanpi(services, "alerts", "list", "--project", project_id, "--rule", "R04", "--json")
    assert {a["severity"] for a in json.loads(listed.stdout)["items"]} == {"red"}
    bad = sanpi(services, "evaluate", "--as-of", "June")
    assert bad.returncode == 1
    assert "as_of" in bad.stderr
