"""Notification metrics (names start with sanpi_; no project or subscription id as a label)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter(
    "sanpi_notifications_total",
    "Delivery attempts by channel and outcome (delivered, failed = will retry, dead = dead letter).",
    ["channel", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "sanpi_notification_delivery_latency_seconds",
    "From the time of the first event a notification carries to its delivery, by channel.",
    ["channel"],
    # Seconds for live alerts, up to a night held by quiet hours.
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400),
)
RETRY_QUEUE_DEPTH = Gauge(
    "sanpi_notification_retry_queue_depth",
    "Pending deliveries with at least one failed attempt (since a replay): their retries. A "
    "first attempt in flight is not one; a send whose lease ran out unanswered is.",
)
PENDING = Gauge(
    "sanpi_notification_pending",
    "Pending deliveries, including those held by the grouping window or quiet hours.",
)
DEAD_LETTERS = Gauge(
    "sanpi_notification_dead_letters",
    "Deliveries currently dead-lettered (replayable with POST /v1/dead-letters/replay).",
)
DEAD_LETTERED = Counter(
    "sanpi_notification_dead_lettered_total",
    "Deliveries that became dead letters, by channel.",
    ["channel"],
)
SUPERVISION = Counter(
    "sanpi_notification_supervision_items_total",
    "督办 item steps: opened, responded, closed, overdue (re-escalated).",
    ["step"],
)
DIGESTS = Counter(
    "sanpi_notification_digests_total",
    "Digests queued (one per subscription and slot), by kind (daily, xun).",
    ["kind"],
)
DIGEST_BULLETINS = Counter(
    "sanpi_notification_digest_bulletins_total",
    "旬 digests by their bulletin: attached (e-mail; robots link to it) or missing (the milestone "
    "service did not give it: the digest went out without it and says so).",
    ["outcome"],
)
ESCALATIONS = Counter(
    "sanpi_notification_escalations_total",
    "Escalation steps of unacknowledged red alerts, by ladder level (1-3).",
    ["level"],
)
STALE_OUTCOMES = Counter(
    "sanpi_notification_stale_outcomes_total",
    "Attempt outcomes dropped because their claim's lease ran out and another claim took the "
    "delivery meanwhile (that send may have reached the receiver twice), by channel.",
    ["channel"],
)
