"""The milestone service's background work, each job in its area's jobs.py: what runs beside the
API and the consumer (kit ServiceSpec.workers)."""

from __future__ import annotations

from sanpi.kit.app import Worker
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.rules.jobs import (
    evaluate_left,
    evaluation_workers,
    refresh_metrics,
    scheduled_evaluation,
)

JOBS: list[Worker] = [
    evaluation_workers,
    scheduled_evaluation(JUDGED),
    evaluate_left(JUDGED),
    refresh_metrics(JUDGED),
]
