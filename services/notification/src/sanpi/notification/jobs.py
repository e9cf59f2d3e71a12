"""The notification service's background work, each job in its area's jobs.py: what runs beside
the API and the consumer (kit ServiceSpec.workers)."""

from __future__ import annotations

from sanpi.kit.app import Worker
from sanpi.notification.delivery.jobs import run_delivery_worker
from sanpi.notification.digests.jobs import run_digest_worker
from sanpi.notification.escalation.jobs import run_timer_worker
from sanpi.notification.subscriptions.jobs import reseal_at_start

JOBS: list[Worker] = [run_delivery_worker, run_timer_worker, run_digest_worker, reseal_at_start]
