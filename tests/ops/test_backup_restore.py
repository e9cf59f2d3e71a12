"""The restore drill: a backup taken while milestones stream in is restored into a fresh stack on
the same broker; the projections, alerts and subscriptions come back, the events published since
the backup are applied again, the changes lost with them are named, and nobody is notified twice
(counted at the webhook receiver)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.events import Topic
from sanpi.kit.kafka import group_backlog
from sanpi.kit.offsets import KafkaPositions
from scripts import stack
from tests.conftest import ROOT, Postgres, Stack, running_stack, start_broker
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PROJECTS = 36
PHOTO = "https://evidence.example/2023-03-01/site.jpg"
STAGE_CHANGED = "sanpi.project.stage_changed.v1"


def tool_env(directory: Path, bootstrap: str, urls: dict[str, str]) -> dict[str, str]:
    """What scripts/backup.py needs to find a stack: the services' own settings variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANPI_")}
    env.update(
        {
            "SANPI_DATA_DIR": str(directory),
            "SANPI_KAFKA_BOOTSTRAP": bootstrap,
            **{f"SANPI_{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
        }
    )
    return env


def backup_tool(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.backup", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def sanpi_offsets(*args: str) -> subprocess.CompletedProcess[str]:
    """The `sanpi offsets` command, as an operator runs it in a service's container."""
    sanpi = Path(sys.executable).parent / "sanpi"
    return subprocess.run(
        [str(sanpi), "offsets", *args], capture_output=True, text=True, timeout=60, check=False
    )


@dataclass
class Stream:
    """STARTED milestones posted one project after another, each answer's time noted; the last
    `after` of them wait for `backup_done`, so that some surely come after the backup."""

    http: httpx.AsyncClient
    services: Stack
    projects: list[str]
    after: int
    backup_done: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: dict[str, float] = field(default_factory=dict)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for number, project_id in enumerate(self.projects):
            if number == len(self.projects) - self.after:
                await self.backup_done.wait()
            response = await self.http.post(
                f"{self.services.urls['milestone']}/v1/projects/{project_id}/milestones",
                json={"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]},
            )
            assert response.status_code == 201, response.text
            self.acknowledged[project_id] = loop.time()
            await asyncio.sleep(0.1)  # a steady trickle, so that the backup lands mid-stream


async def pages(http: httpx.AsyncClient, url: str, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {**query, "limit": "200", **({"cursor": cursor} if cursor else {})}
        response = await http.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


@dataclass(frozen=True)
class State:
    stages: dict[str, str]  # registry's projection of the milestone service's stages
    milestone_stages: dict[str, str]
    alerts: dict[str, tuple[str | None, str]]  # alert key → (project, its latest episode's state)
    subscriptions: set[str]


async def state_of(http: httpx.AsyncClient, services: Stack, projects: list[str]) -> State:
    registry = await pages(http, f"{services.urls['registry']}/v1/projects")
    milestone = {}
    for project_id in projects:
        response = await http.get(
            f"{services.urls['milestone']}/v1/projects/{project_id}/timeline", params={"limit": "1"}
        )
        assert response.status_code == 200, response.text
        milestone[project_id] = response.json()["stage"]
    alerts: dict[str, tuple[str | None, str]] = {}
    for alert in await pages(http, f"{services.urls['milestone']}/v1/alerts"):  # oldest first
        alerts[alert["alert_key"]] = (alert["project_id"], alert["state"])
    subscriptions = await pages(http, f"{services.urls['notification']}/v1/subscriptions")
    return State(
        {p["id"]: p["stage"] for p in registry if p["id"] in projects},
        milestone,
        alerts,
        {s["id"] for s in subscriptions},
    )


def delivered_events(sink: WebhookSink) -> Counter[str]:
    """How often each event reached the receiver (each delivery body is one CloudEvent)."""
    import json

    return Counter(json.loads(r.body)["id"] for r in sink.accepted())


CONSUMES = {
    "registry": [Topic.MILESTONES],
    "milestone": [Topic.PROJECTS],
    "notification": [Topic.PROJECTS, Topic.MILESTONES, Topic.ALERTS],
}


async def caught_up(bootstrap: str) -> bool:
    """Every service's group has committed up to the end of each topic it consumes."""
    for name, topics in CONSUMES.items():
        backlog = await group_backlog(bootstrap, f"sanpi-{name}", [t.value for t in topics])
        if backlog is None or any(b.committed < b.end for b in backlog.values()):
            return False
    return True


def database_urls(directory: Path, postgres: Postgres | None, prefix: str) -> dict[str, str]:
    urls = {}
    for name in stack.SERVICES:
        if postgres is None:
            urls[name] = f"sqlite+aiosqlite:///{directory}/{name}.db"
        else:
            created = postgres.script("createdb", f"{prefix}_{name}")
            assert created.returncode == 0, created.stderr
            urls[name] = postgres.url(f"{prefix}_{name}")
    return urls


@pytest.mark.timeout(600)
async def test_a_backup_taken_mid_stream_restores_into_a_fresh_stack_notifying_nobody_twice(
    run_dir: Path, postgres: Postgres | None
) -> None:
    directory = run_dir / "restore-drill"
    broker = start_broker(directory / "kafka")
    sink = WebhookSink().start()
    backup = directory / "backup"
    try:
        first = directory / "first"
        with running_stack(broker.bootstrap, first, postgres, database_prefix="drill_a") as a:
            async with httpx.AsyncClient(headers=a.headers(), timeout=30) as http:
                created = await http.post(
                    f"{a.urls['notification']}/v1/subscriptions",
                    json={"channel": "webhook", "url": sink.url, "event_types": [STAGE_CHANGED]},
                )
                assert created.status_code == 201, created.text
                projects = []
                for number in range(PROJECTS):
                    registered = await http.post(
                        f"{a.urls['registry']}/v1/projects",
                        json={
                            "name": f"演练项目{number:02d}",
                            "park": "梧桐",
                            "total_investment": 50_000 + number,
                            "planned_start_date": "2023-03-01",
                            "planned_production_date": "2024-06-30",
                        },
                    )
                    assert registered.status_code == 201, registered.text
                    projects.append(registered.json()["id"])

                async def all_known() -> bool:
                    for project_id in projects:
                        url = f"{a.urls['milestone']}/v1/projects/{project_id}/timeline"
                        if (await http.get(url)).status_code != 200:
                            return False
                    return True

                await eventually(all_known, timeout=60, interval=0.5, what="milestone knows all")

                stream = Stream(http, a, projects, after=PROJECTS // 3)
                writing = asyncio.create_task(stream.run())
                await eventually(
                    lambda: len(stream.acknowledged) >= PROJECTS // 3,
                    timeout=60,
                    what="a third of the stream",
                )
                loop = asyncio.get_running_loop()
                backup_began = loop.time()
                env_a = tool_env(
                    first,
                    broker.bootstrap,
                    {n: a.env[f"SANPI_{n.upper()}_DATABASE_URL"] for n in stack.SERVICES},
                )
                taken = await asyncio.to_thread(
                    backup_tool, "backup", "--to", str(backup), env=env_a
                )
                backup_ended = loop.time()
                stream.backup_done.set()
                await writing
                assert "kafka.json" in taken
                before_backup = [p for p, t in stream.acknowledged.items() if t < backup_began]
                after_backup = [p for p, t in stream.acknowledged.items() if t > backup_ended]
                assert before_backup, "the backup came before the stream"
                assert after_backup, "the stream ended before the backup: not mid-stream"

                await eventually(
                    lambda: len(delivered_events(sink)) == PROJECTS or None,
                    timeout=90,
                    what="every stage change delivered",
                )
                await eventually(lambda: caught_up(broker.bootstrap), timeout=60, what="lag 0")
                truth = await state_of(http, a, projects)
                assert set(truth.stages.values()) == {"UNDER_CONSTRUCTION"}
        delivered_before_crash = delivered_events(sink)
        assert set(delivered_before_crash.values()) == {1}

        # The crash: stack A is gone. A fresh stack's databases get the backup.
        second = directory / "second"
        urls_b = database_urls(second, postgres, "drill_b")
        env_b = tool_env(second, broker.bootstrap, urls_b)
        restored = await asyncio.to_thread(backup_tool, "restore", str(backup), env=env_b)
        print(restored)  # shown with a failure: what the restore did and said
        assert "sanpi-notification" in restored
        assert "notifications delivered since the backup" in restored
        published_since = {
            line.split()[0]: int(line.split()[1])
            for line in restored.split("published since the backup")[1].splitlines()[1:]
            if line.strip().startswith("sanpi.")
        }
        assert published_since[Topic.MILESTONES] >= len(after_backup)

        with running_stack(broker.bootstrap, second, postgres, database_prefix="drill_b") as b:
            async with httpx.AsyncClient(headers=b.headers(), timeout=30) as http:
                await eventually(lambda: caught_up(broker.bootstrap), timeout=120, what="replayed")

                async def replayed() -> State | None:
                    now = await state_of(http, b, projects)
                    return now if now.stages == truth.stages else None

                found = await eventually(replayed, timeout=60, interval=0.5, what="projections")
                assert found is not None
                again = found
                deliveries = f"{b.urls['notification']}/v1/deliveries"
                pending = await pages(http, deliveries, status="PENDING")
                assert pending == []
            # What compose and Kubernetes use from a service's container: the same positions,
            # and a restore refused while the group still has members (stack B consumes).
            saved = directory / "positions" / "kafka.json"
            saved.parent.mkdir()
            bootstrap = ("--bootstrap", broker.bootstrap)
            kept = await asyncio.to_thread(sanpi_offsets, "save", str(saved), *bootstrap)
            assert kept.returncode == 0, kept.stdout + kept.stderr
            groups = set(KafkaPositions.load(saved).groups)
            assert groups == {f"sanpi-{n}" for n in stack.SERVICES}
            csv = (saved.parent / "offsets-sanpi-registry.csv").read_text()
            assert "sanpi.milestones," in csv
            refused = await asyncio.to_thread(sanpi_offsets, "restore", str(saved), *bootstrap)
            assert refused.returncode == 1
            assert "still have members" in refused.stdout
        # Subscriptions came back with the notification database.
        assert again.subscriptions == truth.subscriptions
        # The registry's stages are a projection: the events since the backup rebuilt it whole.
        assert again.stages == truth.stages
        # The milestone service's own changes after the backup are not in its database (the
        # restore named them: published since the backup); those before are, alerts alike.
        for project_id in before_backup:
            assert again.milestone_stages[project_id] == "UNDER_CONSTRUCTION"
            for key, (project, state) in truth.alerts.items():
                if project == project_id:
                    assert again.alerts.get(key) == (project, state), key
        for project_id in after_backup:
            assert again.milestone_stages[project_id] == "SIGNED"
        # Nobody was notified twice, whatever the replay applied again.
        delivered = delivered_events(sink)
        assert delivered == delivered_before_crash
    finally:
        sink.stop()
        broker.stop()
