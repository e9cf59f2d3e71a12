"""Prometheus config and rules (promtool), the dashboards as code, and their PromQL on a real Prometheus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import stack
from tests.conftest import free_port
from tests.support.prometheus import (
    DASHBOARDS,
    PrometheusApi,
    dashboard_queries,
    recording_rules,
    substitute,
)

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool missing: `make prometheus` installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False, cwd=ROOT)


def test_config_and_rules_pass_promtool_checks() -> None:
    config = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr
    rules = promtool("check", "rules", *map(str, sorted((PROMETHEUS / "rules").glob("*.yml"))))
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", str(PROMETHEUS / "tests" / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_committed_dashboards_are_what_the_code_generates() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "grafana" / "dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_five_dashboards_with_park_and_period_and_amounts_in_yi() -> None:
    names = sorted(p.stem for p in DASHBOARDS.glob("*.json"))
    assert names == [
        "campaign-overview",
        "investment-pacing",
        "pipeline-health",
        "risk-board",
        "service-red",
    ]
    overview = json.loads((DASHBOARDS / "campaign-overview.json").read_text())
    assert {v["name"] for v in overview["templating"]["list"]} >= {"park", "period"}
    for query in dashboard_queries():
        if "_wan" in query.expr:
            assert "/ 10000" in query.expr, f"{query.dashboard}/{query.panel} shows 万元, not 亿元"
    units = {p.get("fieldConfig", {}).get("defaults", {}).get("unit") for p in overview["panels"]}
    assert "suffix: 亿元" in units
    for path in DASHBOARDS.glob("*.json"):
        dashboard = json.loads(path.read_text())
        assert dashboard["schemaVersion"] >= 39, "Grafana 11 schema"
        for query in (t for p in dashboard["panels"] for t in p.get("targets", [])):
            assert "project_id" not in query["expr"]


@pytest.fixture(scope="module")
def prometheus(run_dir: Path) -> Iterator[PrometheusApi]:
    """A real Prometheus with our rules, scraping nothing (parse checks need no data)."""
    directory = run_dir / "prometheus-parse"
    port = free_port()
    config = stack.render_prometheus_config(
        {name: "127.0.0.1:9" for name in stack.SERVICES}, interval="1s"
    )
    pid = stack.start_prometheus(config, port=port, run_dir=directory)
    assert pid is not None, "prometheus missing: `make prometheus` installs Debian's package"
    try:
        stack.wait_http(f"http://127.0.0.1:{port}/-/ready")
        yield PrometheusApi(f"http://127.0.0.1:{port}")
    finally:
        stack.stop_pidfile(directory / "pids" / "prometheus.pid", stack.PROMETHEUS_MARKER)


def test_every_dashboard_and_rule_query_parses_on_a_real_prometheus(
    prometheus: PrometheusApi,
) -> None:
    queries = [(f"{q.dashboard}/{q.panel}", q.expr) for q in dashboard_queries()]
    queries += [(f"rule {name}", expr) for name, expr in recording_rules()]
    assert len(queries) > 40
    variables = {"park": ".*", "period": ".*", "year": "2023"}
    failures = []
    for where, expr in queries:
        try:
            prometheus.format_query(substitute(expr, variables))
        except AssertionError as exc:
            failures.append(f"{where}: {exc}")
    assert failures == []


def test_prometheus_loaded_every_rule_group(prometheus: PrometheusApi) -> None:
    groups = prometheus.get("/api/v1/rules")["groups"]
    assert {g["name"] for g in groups} == {
        "sanpi-http",
        "sanpi-events",
        "sanpi-notifications",
        "sanpi-campaign",
        "sanpi-platform",
    }
    assert os.path.exists(PROMETHEUS / "rules" / "alerts.yml")
