"""The README's tour, through the real `sanpi` command against the running services."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SANPI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sanpi"


def sanpi(services: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SANPI_REGISTRY_URL": services.urls["registry"],
        "SANPI_MILESTONE_URL": services.urls["milestone"],
        "SANPI_NOTIFICATION_URL": services.urls["notification"],
        "SANPI_TOKEN": services.token(),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(SANPI), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_tour_add_a_project_and_record_its_start(services: Stack) -> None:
    added = sanpi(
        services,
        "projects",
        "add",
        "--name",
        "清智机器人创新中心",
        "--park",
        "枫杨",
        "--total-investment",
        "50000",
        "--planned-start",
        "2023-06-01",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    project = json.loads(added.stdout)
    assert project["stage"] == "SIGNED"
    assert project["total_investment_yi"] == 5.0

    def posted() -> subprocess.CompletedProcess[str] | None:
        result = sanpi(
            services,
            "milestone",
            "post",
            project["id"],
            "--kind",
            "STARTED",
            "--date",
            "2023-06-02",
            "--evidence",
            "https://evidence.example/2023-06-02/1.jpg",
        )
        return result if result.returncode == 0 else None

    result = await eventually(
        posted, what="milestone accepted once the project reached the service"
    )
    assert "UNDER_CONSTRUCTION" in result.stdout

    illegal = sanpi(
        services,
        "milestone",
        "post",
        project["id"],
        "--kind",
        "STARTED",
        "--date",
        "2023-06-03",
        "--evidence",
        "x",
    )
    assert illegal.returncode == 1
    assert "error 409" in illegal.stderr
    assert "项目已处于 UNDER_CONSTRUCTION 阶段" in illegal.stderr

    listed = sanpi(services, "projects", "list", "--park", "枫杨")
    assert listed.returncode == 0
    assert "清智机器人创新中心" in listed.stdout

    # The start was planned for 1 June: 计划开工率 of 枫杨 by 30 June counts it, once the
    # registry has heard of the start.
    def counted() -> subprocess.CompletedProcess[str] | None:
        shown = sanpi(
            services, "indicators", "--park", "枫杨", "--year", "2023", "--as-of", "2023-06-30"
        )
        assert shown.returncode == 0, shown.stderr
        return shown if re.search(r"计划开工率\W+[\d.]+% \([1-9]\d*/", shown.stdout) else None

    shown = await eventually(counted, what="the start counted among 枫杨's planned starts")
    for label in ("签约项目履约率", "履约项目开工率", "签约项目开工率"):
        assert label in shown.stdout


def test_bad_input_names_the_field_and_help_helps(services: Stack) -> None:
    bad = sanpi(
        services, "projects", "add", "--name", "x", "--park", "火星", "--total-investment", "1"
    )
    assert bad.returncode == 1
    assert "「园区」：没有这个园区：应为" in bad.stderr
    helped = sanpi(services, "milestone", "post", "--help")
    assert helped.returncode == 0
    assert "--evidence" in helped.stdout
