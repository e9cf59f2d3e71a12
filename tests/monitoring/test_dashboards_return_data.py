"""The demo scenario under a real Prometheus (Debian's package) scraping the three services; then
every query of every dashboard panel and every recording rule must parse and return data."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.client import SanpiClient, ServiceUrls
from sanpi.client.demo.generator import district
from sanpi.client.demo.loader import load_district
from scripts import stack
from tests.conftest import Postgres, Stack, free_port, running_stack, start_broker
from tests.support.prometheus import PrometheusApi, dashboard_queries, recording_rules, substitute
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

# Rates over five minutes: everything since this Prometheus started (1 s scrapes) is in the window.
RATE_WINDOW = "5m"


@pytest.fixture(scope="module")
def monitored(run_dir: Path, postgres: Postgres | None) -> Iterator[tuple[Stack, PrometheusApi]]:
    """An own broker and stack (the demo pins the evaluation day, which other tests must not see),
    scraped every second by an own Prometheus with the project's rules."""
    directory = run_dir / "monitored"
    broker = start_broker(directory / "kafka")
    fast = {"SANPI_REGISTRY_METRICS_REFRESH_S": "1", "SANPI_MILESTONE_METRICS_REFRESH_S": "1"}
    try:
        with running_stack(
            broker.bootstrap, directory, postgres, database_prefix="monitored", extra_env=fast
        ) as services:
            port = free_port()
            targets = {name: url.removeprefix("http://") for name, url in services.urls.items()}
            config = stack.render_prometheus_config(targets, interval="1s")
            assert stack.start_prometheus(config, port=port, run_dir=directory) is not None
            try:
                stack.wait_http(f"http://127.0.0.1:{port}/-/ready")
                yield services, PrometheusApi(f"http://127.0.0.1:{port}")
            finally:
                stack.stop_pidfile(directory / "pids" / "prometheus.pid", stack.PROMETHEUS_MARKER)
    finally:
        broker.stop()


def has_data(result: list[dict[str, Any]]) -> bool:
    """At least one series with a finite value (a panel of NaN shows nothing either)."""
    return any(math.isfinite(float(series["value"][1])) for series in result if "value" in series)


async def test_every_panel_and_recording_rule_returns_data_after_the_demo(
    monitored: tuple[Stack, PrometheusApi], webhook_sink: WebhookSink
) -> None:
    services, prometheus = monitored
    urls = ServiceUrls(**services.urls)
    # Someone subscribed to the alerts: the demo's evaluation then delivers through a channel.
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as http:
        created = await http.post(
            f"{services.urls['notification']}/v1/subscriptions",
            json={"channel": "webhook", "url": webhook_sink.url, "event_types": ["sanpi.alert.*"]},
        )
        assert created.status_code == 201, created.text

    with SanpiClient(services.token(), urls, timeout=60) as client:
        summary = await asyncio.to_thread(load_district, client, district(2023))
    assert summary.projects > 150
    assert summary.progress_calls > 500
    await eventually(
        lambda: webhook_sink.accepted(), timeout=60, what="alert notifications delivered"
    )

    years = [r["metric"]["year"] for r in prometheus.instant("sanpi_time_progress_ratio")]
    variables = {
        "park": ".*",
        "period": ".*",
        "year": "2023" if "2023" in years else (years or ["2023"])[0],
    }
    queries = [(f"{q.dashboard} / {q.panel}", q.expr) for q in dashboard_queries()]
    queries += [(f"recording rule {name}", expr) for name, expr in recording_rules()]

    missing: dict[str, str] = {}

    def all_return_data() -> bool:
        missing.clear()
        for where, expr in queries:
            concrete = substitute(expr.replace("$__rate_interval", RATE_WINDOW), variables)
            prometheus.format_query(concrete)  # a parse error fails at once
            if not has_data(prometheus.instant(concrete)):
                missing[where] = concrete
        return not missing

    try:
        await eventually(
            all_return_data, timeout=90, interval=2, what="every dashboard query returning data"
        )
    except AssertionError:
        pytest.fail(
            "queries without data:\n" + "\n".join(f"  {w}: {q}" for w, q in missing.items())
        )
