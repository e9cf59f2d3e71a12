"""`sanpi projects cancel --effective-date`: a cancellation (or 调出) dated as it was decided."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from sanpi.client.cli import app as cli
from sanpi.kit import FixedClock, Role
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings
from tests.support.apps import token
from tests.support.registry import FULL_PROJECT, MID_2023
from tests.support.threaded import serve_in_thread


def test_the_command_line_cancels_as_of_the_day_it_was_decided(tmp_path: Path) -> None:
    settings = RegistrySettings(data_dir=tmp_path, kafka_enabled=False)
    with serve_in_thread(create_app(settings, clock=FixedClock(MID_2023))) as server:
        admin = token(Role.ADMIN)
        headers = {"Authorization": f"Bearer {admin}"}
        # A deadline for a loaded machine (httpx waits 5 s by default; the suite runs two passes).
        created = httpx.post(
            f"{server.url}/v1/projects", json=FULL_PROJECT, headers=headers, timeout=60
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        env = {"SANPI_REGISTRY_URL": server.url, "SANPI_TOKEN": admin, "COLUMNS": "250"}

        def run(*args: str) -> Any:
            return CliRunner().invoke(cli, ["projects", "cancel", pid, *args], env=env)

        undated = run("--reason-code", "WITHDRAWN", "--reason", "调出", "--json")
        assert undated.exit_code == 1, undated.output
        assert "effective_date" in undated.output
        done = run(
            "--reason-code", "WITHDRAWN", "--reason", "区政府决定调出",
            "--effective-date", "2023-04-10", "--json",
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["cancelled_on"] == "2023-04-10"
