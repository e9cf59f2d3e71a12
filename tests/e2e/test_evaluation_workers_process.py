"""The milestone service started with an evaluation worker (SANPI_MILESTONE_EVALUATION_WORKERS=1)
as it runs in production: the worker starts with it, judges its share of a full pass asked over
HTTP, and stops with it."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.evaluation import day_file, prepare, url_of
from sanpi.kit import Role, issue_token
from scripts import stack
from tests.conftest import Broker, Postgres, free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: no name is matched)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _chunks(metrics: str, judge: str) -> float:
    for family in text_string_to_metric_families(metrics):
        if family.name == "sanpi_rule_evaluation_chunks":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels.get("judge") == judge:
                    return sample.value
    return 0.0


async def test_the_service_judges_a_pass_with_its_worker_and_stops_it(
    kafka_broker: Broker, run_dir: Path, tmp_path: Path, postgres: Postgres | None
) -> None:
    name = f"workers_{uuid.uuid4().hex[:6]}"
    source = postgres.url(name) if postgres else str(tmp_path / "milestone.db")
    await prepare(900, source, months=6)  # 3 chunks of 400: the worker judges the second
    as_of = dt.date.fromisoformat(day_file(source).read_text())
    directory = run_dir / name
    secret = stack.jwt_secret(directory)
    env = stack.service_env(secret, kafka_broker.bootstrap, directory)
    env.update(
        {
            "SANPI_ENV": "test",
            "SANPI_MILESTONE_DATABASE_URL": url_of(source),
            "SANPI_MILESTONE_CONSUMER_GROUP": f"sanpi-milestone-{name}",
            "SANPI_MILESTONE_EVALUATION_INTERVAL_S": "0",
            "SANPI_MILESTONE_EVALUATION_WORKERS": "1",
        }
    )
    port = free_port()
    pid = stack.start_service("milestone", port=port, env=env, run_dir=directory)
    url = f"http://127.0.0.1:{port}"
    pidfile = directory / "pids" / "milestone.pid"
    try:
        stack.wait_ready(url, timeout=60, pid=pid, marker="sanpi.milestone")
        # The worker starts with the service (rules.jobs.evaluation_workers), not at the first pass.
        workers = await eventually(lambda: _children(pid) or None, timeout=30)
        token = issue_token(secret, subject="ops", role=Role.ADMIN)
        async with httpx.AsyncClient(
            base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            answer = await http.post(
                "/v1/admin/evaluate", params={"as_of": as_of.isoformat(), "pin": "true"}
            )
            assert answer.status_code == 200, answer.text
            # The prepared 900, and any project another test registered on the shared broker
            # meanwhile: this service's new consumer group reads the topics from their start.
            projects = answer.json()["projects"]
            assert projects >= 900
            assert len(answer.json()["raised"]) > 50
            metrics = (await http.get("/metrics")).text
        # Every second chunk of 400 is the worker's (rules.workers.EvaluationPool.judge_with).
        chunks = math.ceil(projects / 400)
        assert _chunks(metrics, "worker") == chunks // 2 >= 1
        assert _chunks(metrics, "service") == chunks - chunks // 2
        log = (directory / "logs" / "milestone.log").read_text()
        assert "1 evaluation workers ready" in log
    finally:
        stack.stop_pidfile(pidfile, "sanpi.milestone")
    # Stopped with the service: no worker is left behind. Multiprocessing's resource tracker,
    # a child too, exits once it reads the end of its pipe from the stopped service, a moment
    # after it.
    assert not _alive(pid)
    await eventually(
        lambda: not any(_alive(worker) for worker in workers),
        timeout=15,
        what="the service's children to exit",
    )
