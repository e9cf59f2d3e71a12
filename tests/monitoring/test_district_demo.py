"""The district demo loaded over the public APIs into a stack of its own, scraped by a real
Prometheus (Debian's package): every query of every dashboard panel and every recording rule
parses and returns data, and a second load of the demo duplicates nothing."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.client import SanpiClient, ServiceUrls
from sanpi.client.demo.generator import DemoDataset, district
from sanpi.client.demo.loader import LoadSummary, load_district
from scripts import stack
from tests.conftest import Postgres, Stack, free_port, running_stack, start_broker
from tests.support.prometheus import PrometheusApi, dashboard_queries, recording_rules, substitute
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

# Rates over five minutes: everything since this Prometheus started (1 s scrapes) is in the window.
RATE_WINDOW = "5m"

# Idempotency keys are kept per token subject: the second load must come from the same one.
LOADER = "demo"


@dataclass
class LoadedDemo:
    """The module's stack after the demo's first load, its Prometheus, and what it recorded."""

    services: Stack
    prometheus: PrometheusApi
    sink: WebhookSink
    data: DemoDataset
    first: LoadSummary

    def client(self) -> SanpiClient:
        urls = ServiceUrls(**self.services.urls)
        return SanpiClient(self.services.token(subject=LOADER), urls, timeout=60)


@pytest.fixture(scope="module")
def loaded(run_dir: Path, postgres: Postgres | None) -> Iterator[LoadedDemo]:
    """An own broker and stack (the demo pins the evaluation day, which other tests must not see),
    scraped every second by an own Prometheus with the project's rules, with the demo loaded once
    (it takes most of a minute, so both tests share it) after someone subscribed to the alerts."""
    directory = run_dir / "district"
    broker = start_broker(directory / "kafka")
    fast = {"SANPI_REGISTRY_METRICS_REFRESH_S": "1", "SANPI_MILESTONE_METRICS_REFRESH_S": "1"}
    sink = WebhookSink().start()
    try:
        with running_stack(
            broker.bootstrap, directory, postgres, database_prefix="district", extra_env=fast
        ) as services:
            port = free_port()
            targets = {name: url.removeprefix("http://") for name, url in services.urls.items()}
            config = stack.render_prometheus_config(targets, interval="1s")
            assert stack.start_prometheus(config, port=port, run_dir=directory) is not None
            try:
                stack.wait_http(f"http://127.0.0.1:{port}/-/ready")
                prometheus = PrometheusApi(f"http://127.0.0.1:{port}")
                yield _load_first(services, prometheus, sink)
            finally:
                stack.stop_pidfile(directory / "pids" / "prometheus.pid", stack.PROMETHEUS_MARKER)
    finally:
        sink.stop()
        broker.stop()


def _load_first(services: Stack, prometheus: PrometheusApi, sink: WebhookSink) -> LoadedDemo:
    # Someone subscribed to the alerts: the demo's evaluation then delivers through a channel.
    created = httpx.post(
        f"{services.urls['notification']}/v1/subscriptions",
        json={"channel": "webhook", "url": sink.url, "event_types": ["sanpi.alert.*"]},
        headers=services.headers(),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    demo = LoadedDemo(services, prometheus, sink, district(2023), LoadSummary())
    with demo.client() as client:
        demo.first = load_district(client, demo.data, wait_timeout=60)
    return demo


def has_data(result: list[dict[str, Any]]) -> bool:
    """At least one series with a finite value (a panel of NaN shows nothing either)."""
    return any(math.isfinite(float(series["value"][1])) for series in result if "value" in series)


async def test_every_panel_and_recording_rule_returns_data_after_the_demo(
    loaded: LoadedDemo,
) -> None:
    prometheus = loaded.prometheus
    assert loaded.first.projects > 150
    assert loaded.first.progress_calls > 500
    await eventually(
        lambda: loaded.sink.accepted(), timeout=60, what="alert notifications delivered"
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


async def test_the_district_demo_loads_over_the_apis_and_twice_duplicates_nothing(
    loaded: LoadedDemo,
) -> None:
    data, first = loaded.data, loaded.first
    with loaded.client() as client:
        second = await asyncio.to_thread(load_district, client, data, wait_timeout=60)
        assert first.ids == second.ids
        assert first.milestones > 100
        assert second.milestones == 0
        assert second.skipped_milestones == first.milestones
        listings = client.registry.list_listings(period=7, limit=500)["items"]
        assert len(listings) == 12
        assert sum(x["listed_total_investment"] for x in listings) == 1_607_000
        seen = client.registry.list_projects(q="雄韬氢能", limit=10)["items"]
        assert [p["name"] for p in seen] == ["雄韬氢能产业园"]
        assert client.registry.get_period(7)["status"] == "CLOSED"

        def producing() -> int:
            page = client.registry.list_projects(stage="IN_PRODUCTION", limit=500)
            return len(page["items"])

        expected = sum(
            1 for p in data.projects
            if p.produced and p.produced <= data.as_of and not (p.effective and p.effective <= data.as_of)
            and not p.cancelled
        )  # fmt: skip
        await eventually(
            lambda: producing() == expected or None, timeout=60, what="stage projection"
        )
        indicators = client.registry.indicators(year=2023, as_of="2024-12-31")
        assert indicators["periods"][0]["period"] == 7
        assert indicators["targets"][0]["target"] == 4_000_000
        # The demo's 2023 as the registry counts it on the demo's day: the generator's figures
        # (410亿 signed, 45 % of it manufacturing, ~295亿 of new starts; docs/domain.md#district-demo).
        counted = [p for p in data.projects if p.cancelled is None or p.cancelled > data.as_of]
        signed = [p for p in counted if not p.direct and p.signed and p.signed.year == 2023]
        expected_actuals = {
            "SIGN_AMOUNT": sum(p.body["contract_amount"] for p in signed),
            "MFG_SIGN_AMOUNT": sum(
                p.body["contract_amount"] for p in signed if p.body["is_manufacturing"]
            ),
            "MFG_SIGN_COUNT": sum(1 for p in signed if p.body["is_manufacturing"]),
            "NEW_START_INVESTMENT": sum(
                p.amount for p in counted if p.started and p.started.year == 2023
            ),
        }
        on_the_day = client.registry.indicators(year=2023, as_of=data.as_of.isoformat())
        actuals = {t["kind"]: t["actual"] for t in on_the_day["targets"]}
        assert actuals == expected_actuals
        assert 3_600_000 <= actuals["SIGN_AMOUNT"] <= 4_400_000
        assert 2_700_000 <= actuals["NEW_START_INVESTMENT"] <= 3_100_000
        assert actuals["MFG_SIGN_COUNT"] >= 12
