"""The registry service's background work, each job in its area's jobs.py: what runs beside the
API and the consumer (kit ServiceSpec.workers)."""

from __future__ import annotations

from sanpi.kit.app import Worker
from sanpi.registry.indicators.jobs import run_metrics_refresher

JOBS: list[Worker] = [run_metrics_refresher]
