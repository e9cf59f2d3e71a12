"""The milestone service's gauges for Prometheus: alerts firing, traffic lights, investment pacing
against the plan, rule evaluation time and progress reports.

Labels are rules, colours, parks and report kinds: bounded sets, never a project id."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from sanpi.kit.metrics import SnapshotGauge
from sanpi.milestone.rules.evaluation import Pacing
from sanpi.milestone.rules.lights import ParkLight
from sanpi.milestone.rules.models import Alert

ALERTS_FIRING = SnapshotGauge(
    "sanpi_alerts_firing", "Firing alerts by rule, colour and park.", ["rule", "severity", "park"]
)
TRAFFIC_LIGHTS = SnapshotGauge(
    "sanpi_traffic_lights",
    "Active projects by park and colour (a project's colour is its worst firing alert).",
    ["park", "colour"],
)
COMPLETED_YTD = SnapshotGauge(
    "sanpi_investment_completed_ytd_wan",
    "完成投资 this year by park, 万元, as of the last full evaluation.",
    ["park"],
)
EXPECTED_YTD = SnapshotGauge(
    "sanpi_investment_expected_ytd_wan",
    "What the plans expect completed by the last ended month (splits, else 序时进度), 万元.",
    ["park"],
)
ANNUAL_PLAN = SnapshotGauge(
    "sanpi_investment_annual_plan_wan", "年度计划投资 of this year by park, 万元.", ["park"]
)
RULE_EVALUATION = Histogram(
    "sanpi_rule_evaluation_duration_seconds",
    "Time to evaluate the alert rules: scope=all (a full pass) or projects (after a change).",
    ["scope"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RULE_EVALUATION_CHUNKS = Counter(
    "sanpi_rule_evaluation_chunks_total",
    "Chunks of full evaluation passes judged (400 projects each): judge=service (the service's "
    "own process) or worker (an evaluation worker, SANPI_MILESTONE_EVALUATION_WORKERS).",
    ["judge"],
)
RULE_EVALUATION_WORKER_CPU = Counter(
    "sanpi_rule_evaluation_worker_cpu_seconds_total",
    "CPU seconds the evaluation workers spent judging chunks (the service's own CPU is in "
    "process_cpu_seconds_total).",
)
RULE_EVALUATION_BATCH = Histogram(
    "sanpi_rule_evaluation_batch_projects",
    "Projects evaluated together after changes: one observation per evaluation transaction "
    "(the changes committed while the previous one ran, of every request and consumer batch).",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
PROGRESS_REPORTS = Counter(
    "sanpi_progress_reports_total",
    "Progress reports accepted, by kind (XUN, MONTH) and whether they came after the deadline.",
    ["period_kind", "late"],
)
for _kind in ("XUN", "MONTH"):
    for _late in ("true", "false"):
        PROGRESS_REPORTS.labels(_kind, _late)
for _scope in ("all", "projects"):
    RULE_EVALUATION.labels(_scope)


def publish_pacing(portfolio: Iterable[tuple[str, Pacing]]) -> None:
    """Sums each park's completed / expected / planned investment of the evaluated year."""
    completed: dict[tuple[str, ...], float] = {}
    expected: dict[tuple[str, ...], float] = {}
    planned: dict[tuple[str, ...], float] = {}
    for park_name, pacing in portfolio:
        park = (park_name,)
        completed[park] = completed.get(park, 0.0) + pacing.completed_ytd
        expected[park] = expected.get(park, 0.0) + pacing.expected_ytd
        planned[park] = planned.get(park, 0.0) + pacing.annual_plan
    COMPLETED_YTD.publish(completed)
    EXPECTED_YTD.publish(expected)
    ANNUAL_PLAN.publish(planned)


def publish_alerts(firing: Iterable[Alert], lights: Iterable[ParkLight]) -> None:
    by_rule: dict[tuple[str, ...], float] = {}
    for alert in firing:
        key = (str(alert.rule), str(alert.severity), alert.park or "")
        by_rule[key] = by_rule.get(key, 0.0) + 1
    ALERTS_FIRING.publish(by_rule)
    TRAFFIC_LIGHTS.publish(
        {
            (light.park, str(colour)): float(n)
            for light in lights
            for colour, n in light.counts.items()
        }
    )
