"""The district demo, loaded once over the public APIs into a stack and broker of its own, for
every test of this package: the load takes tens of seconds, and the tests only read it (or load
it again, which must change nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sanpi.client import SanpiClient, ServiceUrls
from sanpi.client.demo.generator import DemoDataset, district
from sanpi.client.demo.loader import LoadSummary, load_district
from scripts import stack
from tests.conftest import Postgres, Stack, free_port, running_stack, start_broker
from tests.support.prometheus import PrometheusApi
from tests.support.sink import WebhookSink

# Idempotency keys are kept per token subject: a second load must come from the same one.
LOADER = "demo"


@dataclass
class LoadedDemo:
    """The package's stack after the demo's first load, its Prometheus, and what it recorded."""

    services: Stack
    prometheus: PrometheusApi
    sink: WebhookSink
    data: DemoDataset
    first: LoadSummary

    def client(self) -> SanpiClient:
        urls = ServiceUrls(**self.services.urls)
        return SanpiClient(self.services.token(subject=LOADER), urls, timeout=60)


@pytest.fixture(scope="package")
def loaded(run_dir: Path, postgres: Postgres | None) -> Iterator[LoadedDemo]:
    """An own broker and stack (the demo pins the evaluation day, which other tests must not see),
    scraped every second by an own Prometheus with the project's rules, with the demo loaded once
    after someone subscribed to the alerts."""
    directory = run_dir / "district"
    broker = start_broker(directory / "kafka")
    fast = {"SANPI_REGISTRY_METRICS_REFRESH_S": "1", "SANPI_MILESTONE_METRICS_REFRESH_S": "1"}
    # As `make up` starts the services when it loads the demo: bulletins marked 演示数据.
    fast["SANPI_MILESTONE_DEMO_DATA"] = "1"
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
