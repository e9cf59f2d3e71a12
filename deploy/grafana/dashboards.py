"""sanpi's Grafana dashboards as code (grafana-foundation-sdk, Grafana 11.6 schema).

    .venv/bin/python deploy/grafana/dashboards.py           write deploy/grafana/dashboards/*.json
    .venv/bin/python deploy/grafana/dashboards.py --check   exit 1 if a committed file is stale

Amounts are stored and exported in 万元; panels divide by 10⁴ and show 亿元, the unit officials use.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.bargauge import Panel as BarGauge
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.gauge import Panel as Gauge
from grafana_foundation_sdk.builders.prometheus import Dataquery as Query
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as TimeSeries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import BigValueGraphMode, VizOrientation
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUT = Path(__file__).resolve().parent / "dashboards"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
YI = "suffix: 亿元"  # 1 亿元 = 10⁴ 万元
PARK = 'park=~"$park"'
# sanpi_conversion_* kinds: the conversion chain, and the rates the city evaluation methods publish.
CHAIN = PARK + ', kind=~"sign_to_start|start_to_production|production_to_effective"'
PUBLISHED = PARK + ', kind=~"sign_to_fulfil|fulfil_to_start|planned_start|funds_arrival"'
PERIOD = 'period=~"$period"'

GREEN, YELLOW, ORANGE, RED, BLUE = "green", "yellow", "orange", "red", "blue"


def query(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Query:
    q = Query().expr(expr).datasource(PROMETHEUS)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant()
    if table:
        q = q.format(PromQueryFormat.TABLE)
    return q


def steps(*pairs: tuple[float | None, str]) -> ThresholdsConfig:
    return (
        ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(v, c) for v, c in pairs])
    )


def rate_bars(title: str, description: str, selector: str) -> BarGauge:
    """The sanpi_conversion_* kinds matching `selector` as percentage bars, one per kind."""
    return (
        BarGauge()
        .title(title)
        .span(12)
        .height(7)
        .unit("percentunit")
        .min(0)
        .max(1)
        .description(description)
        .with_target(
            query(
                f"sum by (kind) (sanpi_conversion_reached{{{selector}}})"
                f" / clamp_min(sum by (kind) (sanpi_conversion_base{{{selector}}}), 1)",
                "{{kind}}",
                instant=True,
            )
        )
        .orientation(VizOrientation.HORIZONTAL)
        .thresholds(steps((None, RED), (0.6, YELLOW), (0.8, GREEN)))
    )


def variable(name: str, label: str, values_of: str, *, include_all: bool = True) -> QueryVariable:
    var = (
        QueryVariable(name)
        .label(label)
        .datasource(PROMETHEUS)
        .query(f"label_values({values_of}, {name})")
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    if include_all:
        var = (
            var.multi(True)
            .include_all(True)
            .all_value(".*")
            .current(VariableOption(text="All", value="$__all", selected=True))
        )
    return var


def park_variable() -> QueryVariable:
    return variable("park", "园区 park", "sanpi_projects")


def period_variable() -> QueryVariable:
    return variable("period", "期 period", "sanpi_listings")


def year_variable() -> QueryVariable:
    return variable("year", "年 year", "sanpi_time_progress_ratio", include_all=False)


def base(uid: str, title: str, description: str) -> Dashboard:
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["sanpi", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("Asia/Shanghai")
        .readonly()
    )


def campaign_overview() -> Dashboard:
    return (
        base(
            "sanpi-campaign",
            "sanpi · 三个一批 campaign overview",
            "Counts and 亿元 per batch, annual targets against 序时进度, conversion rates, traffic lights per park.",
        )
        .with_variable(park_variable())
        .with_variable(period_variable())
        .with_variable(year_variable())
        .with_row(Row("签约 / 开工 / 投产 — the batches of the selected periods"))
        .with_panel(
            Stat()
            .title("Projects listed per batch")
            .span(8)
            .height(6)
            .description("Listings on the 签约 (SIGN), 开工 (START) and 投产 (PRODUCE) lists.")
            .with_target(
                query(
                    f"sum by (batch) (sanpi_listings{{{PARK}, {PERIOD}}})",
                    "{{batch}}",
                    instant=True,
                )
            )
            .graph_mode(BigValueGraphMode.NONE)
        )
        .with_panel(
            Stat()
            .title("Investment per batch")
            .span(8)
            .height(6)
            .unit(YI)
            .decimals(1)
            .description("总投资 of the listed projects, in 亿元.")
            .with_target(
                query(
                    f"sum by (batch) (sanpi_listing_investment_wan{{{PARK}, {PERIOD}}}) / 10000",
                    "{{batch}}",
                    instant=True,
                )
            )
            .graph_mode(BigValueGraphMode.NONE)
        )
        .with_panel(
            BarGauge()
            .title("Projects by stage")
            .span(8)
            .height(6)
            .with_target(
                query(f"sum by (stage) (sanpi_projects{{{PARK}}})", "{{stage}}", instant=True)
            )
            .orientation(VizOrientation.HORIZONTAL)
        )
        .with_row(
            Row(
                "Annual targets (seed 004: 签约额 400亿, 新开工投资额 290亿, 制造业签约额 180亿, 制造业签约 12个)"
            )
        )
        .with_panel(
            Gauge()
            .title("Target attainment")
            .span(16)
            .height(7)
            .unit("percentunit")
            .min(0)
            .max(1)
            .description(
                "Achieved share of each annual target; 序时进度 is the share of the year elapsed."
            )
            .with_target(
                query(
                    'max by (kind) (sanpi_target_attainment_ratio{year="$year"})',
                    "{{kind}}",
                    instant=True,
                )
            )
            .thresholds(steps((None, RED), (0.8, YELLOW), (1.0, GREEN)))
        )
        .with_panel(
            Stat()
            .title("序时进度 (time progress)")
            .span(8)
            .height(7)
            .unit("percentunit")
            .decimals(1)
            .with_target(
                query('max(sanpi_time_progress_ratio{year="$year"})', "序时进度", instant=True)
            )
            .graph_mode(BigValueGraphMode.NONE)
        )
        .with_panel(
            BarGauge()
            .title("Live projects by 4+4+N chain")
            .span(24)
            .height(7)
            .with_target(
                query(
                    f"sum by (chain_tag) (sanpi_projects_by_chain{{{PARK}}})",
                    "{{chain_tag}}",
                    instant=True,
                )
            )
            .orientation(VizOrientation.HORIZONTAL)
        )
        .with_row(Row("Conversion and traffic lights"))
        .with_panel(
            rate_bars(
                "Conversion rates (cumulative)",
                "签约项目开工率, 开工项目投产率, 投产项目达效率 (docs/domain.md#indicators); "
                "调出 projects left out.",
                CHAIN,
            )
        )
        .with_panel(
            rate_bars(
                "Published rates: 履约率, 履约开工率, 计划开工率, 资金到位率",
                "签约项目履约率 (sign_to_fulfil), 履约项目开工率 (fulfil_to_start), 计划开工率 "
                "(planned_start: starts planned from 1 January to today that started), 资金到位率 "
                "(funds_arrival: 到位资金 / 签约额 of the signings), as the "
                "city evaluation methods count them (docs/domain.md#indicators).",
                PUBLISHED,
            )
        )
        .with_panel(
            Table()
            .title("Traffic lights per park")
            .span(12)
            .height(7)
            .description(
                "Projects per park by the colour of their worst firing alert (green: none)."
            )
            .with_target(
                query(
                    f"sum by (park, colour) (sanpi_traffic_lights{{{PARK}}})",
                    instant=True,
                    table=True,
                )
            )
        )
    )


def investment_pacing() -> Dashboard:
    return (
        base(
            "sanpi-pacing",
            "sanpi · investment pacing against 序时进度",
            "Completed investment against the plan-to-date and the calendar, per park.",
        )
        .with_variable(park_variable())
        .with_variable(year_variable())
        .with_panel(
            TimeSeries()
            .title("Completed this year vs expected by now")
            .span(16)
            .height(8)
            .unit(YI)
            .decimals(1)
            .with_target(
                query(
                    f"sum by (park) (sanpi_investment_completed_ytd_wan{{{PARK}}}) / 10000",
                    "{{park}} completed",
                )
            )
            .with_target(
                query(
                    f"sum by (park) (sanpi_investment_expected_ytd_wan{{{PARK}}}) / 10000",
                    "{{park}} expected",
                )
            )
        )
        .with_panel(
            Stat()
            .title("序时进度")
            .span(8)
            .height(8)
            .unit("percentunit")
            .decimals(1)
            .with_target(
                query('max(sanpi_time_progress_ratio{year="$year"})', "序时进度", instant=True)
            )
        )
        .with_panel(
            BarGauge()
            .title("Pacing: completed / expected")
            .span(12)
            .height(8)
            .unit("percentunit")
            .min(0)
            .max(1.5)
            .description("Below 70 % is red, below 90 % yellow (R04 uses 30 and 10 points of gap).")
            .with_target(
                query(f"park:sanpi_investment_pacing:ratio{{{PARK}}}", "{{park}}", instant=True)
            )
            .orientation(VizOrientation.HORIZONTAL)
            .thresholds(steps((None, RED), (0.7, YELLOW), (0.9, GREEN)))
        )
        .with_panel(
            BarGauge()
            .title("Annual plan per park")
            .span(12)
            .height(8)
            .unit(YI)
            .decimals(1)
            .with_target(
                query(
                    f"sum by (park) (sanpi_investment_annual_plan_wan{{{PARK}}}) / 10000",
                    "{{park}}",
                    instant=True,
                )
            )
            .orientation(VizOrientation.HORIZONTAL)
        )
        .with_panel(
            TimeSeries()
            .title("Target gap against 序时进度 (points)")
            .span(24)
            .height(8)
            .description(
                "Attainment minus time progress, in percentage points: -10 is yellow, -20 red (R15)."
            )
            .with_target(
                query('year_scope_kind:sanpi_target_gap:points{year="$year"}', "{{scope}} {{kind}}")
            )
            .thresholds(steps((None, RED), (-20, YELLOW), (-10, GREEN)))
        )
    )


def risk_board() -> Dashboard:
    return (
        base("sanpi-risk", "sanpi · risk board", "Firing alerts by rule and colour, per park.")
        .with_variable(park_variable())
        .with_panel(
            Stat()
            .title("Red alerts")
            .span(6)
            .height(6)
            .with_target(
                query(
                    f'sum(sanpi_alerts_firing{{severity="red", {PARK}}}) or vector(0)',
                    "red",
                    instant=True,
                )
            )
            .thresholds(steps((None, GREEN), (1, RED)))
        )
        .with_panel(
            Stat()
            .title("Yellow and orange alerts")
            .span(6)
            .height(6)
            .with_target(
                query(
                    f'sum(sanpi_alerts_firing{{severity=~"yellow|orange", {PARK}}}) or vector(0)',
                    "yellow+orange",
                    instant=True,
                )
            )
            .thresholds(steps((None, GREEN), (1, YELLOW)))
        )
        .with_panel(
            Stat()
            .title("Blue (deadline near)")
            .span(6)
            .height(6)
            .with_target(
                query(
                    f'sum(sanpi_alerts_firing{{severity="blue", {PARK}}}) or vector(0)',
                    "blue",
                    instant=True,
                )
            )
            .thresholds(steps((None, BLUE)))
        )
        .with_panel(
            Stat()
            .title("Rule evaluation p95")
            .span(6)
            .height(6)
            .unit("s")
            .decimals(2)
            .with_target(
                query(
                    "histogram_quantile(0.95, sum by (le) (rate(sanpi_rule_evaluation_duration_seconds_bucket[$__rate_interval])))",
                    "p95",
                )
            )
        )
        .with_panel(
            Table()
            .title("Alerts firing by rule and colour")
            .span(12)
            .height(9)
            .with_target(
                query(
                    f"sum by (rule, severity) (sanpi_alerts_firing{{{PARK}}})",
                    instant=True,
                    table=True,
                )
            )
        )
        .with_panel(
            TimeSeries()
            .title("Alerts firing per park and colour")
            .span(12)
            .height(9)
            .with_target(
                query(f"park_severity:sanpi_alerts_firing:sum{{{PARK}}}", "{{park}} {{severity}}")
            )
        )
    )


def pipeline_health() -> Dashboard:
    return (
        base(
            "sanpi-pipeline",
            "sanpi · pipeline health",
            "Kafka lag, outbox, dead letters and deliveries.",
        )
        .with_panel(
            TimeSeries()
            .title("Consumer lag (records)")
            .span(12)
            .height(8)
            .with_target(query("job_topic:sanpi_consumer_lag:sum", "{{job}} ← {{topic}}"))
        )
        .with_panel(
            TimeSeries()
            .title("Outbox backlog and oldest age")
            .span(12)
            .height(8)
            .with_target(query("sanpi_outbox_backlog", "{{job}} rows"))
            .with_target(query("sanpi_outbox_oldest_age_seconds", "{{job}} oldest (s)"))
        )
        .with_panel(
            TimeSeries()
            .title("Events published / consumed per second")
            .span(12)
            .height(8)
            .unit("ops")
            .with_target(
                query(
                    "sum by (job) (rate(sanpi_events_published_total[$__rate_interval]))",
                    "{{job}} published",
                )
            )
            .with_target(
                query(
                    "sum by (job, outcome) (rate(sanpi_events_consumed_total[$__rate_interval]))",
                    "{{job}} consumed {{outcome}}",
                )
            )
        )
        .with_panel(
            Table()
            .title("Dead letters (last hour)")
            .span(12)
            .height(8)
            .with_target(query("job_topic:sanpi_dlq_records:increase1h", instant=True, table=True))
        )
        .with_panel(
            TimeSeries()
            .title("Notifications by channel and outcome")
            .span(12)
            .height(8)
            .unit("ops")
            .with_target(
                query(
                    "sum by (channel, outcome) (rate(sanpi_notifications_total[$__rate_interval]))",
                    "{{channel}} {{outcome}}",
                )
            )
        )
        .with_panel(
            TimeSeries()
            .title("Delivery latency p95 (event time → delivered)")
            .span(12)
            .height(8)
            .unit("s")
            .with_target(
                query(
                    "histogram_quantile(0.95, sum by (channel, le) (rate(sanpi_notification_delivery_latency_seconds_bucket[$__rate_interval])))",
                    "{{channel}}",
                )
            )
        )
        .with_panel(
            TimeSeries()
            .title("Notifications waiting: retry queue, pending and dead letters")
            .span(24)
            .height(8)
            .with_target(query("sanpi_notification_retry_queue_depth", "retry queue"))
            .with_target(query("sanpi_notification_pending", "pending (grouping, quiet hours)"))
            .with_target(query("sanpi_notification_dead_letters", "dead letters"))
        )
        .with_panel(
            Stat()
            .title("Kafka connected")
            .span(24)
            .height(4)
            .with_target(query("sanpi_kafka_connected", "{{job}}", instant=True))
            .thresholds(steps((None, RED), (1, GREEN)))
        )
    )


def service_red() -> Dashboard:
    return (
        base(
            "sanpi-red",
            "sanpi · service RED",
            "Rate, errors and duration of each service's HTTP API.",
        )
        .with_panel(
            TimeSeries()
            .title("Requests per second")
            .span(8)
            .height(8)
            .unit("reqps")
            .with_target(
                query("sum by (job) (rate(sanpi_http_requests_total[$__rate_interval]))", "{{job}}")
            )
        )
        .with_panel(
            TimeSeries()
            .title("5xx ratio")
            .span(8)
            .height(8)
            .unit("percentunit")
            .with_target(
                query(
                    '(sum by (job) (rate(sanpi_http_requests_total{status=~"5.."}[$__rate_interval]))'
                    " or 0 * sum by (job) (rate(sanpi_http_requests_total[$__rate_interval])))"
                    " / clamp_min(sum by (job) (rate(sanpi_http_requests_total[$__rate_interval])), 1e-9)",
                    "{{job}}",
                )
            )
        )
        .with_panel(
            TimeSeries()
            .title("Latency p95 / p99")
            .span(8)
            .height(8)
            .unit("s")
            .with_target(
                query(
                    "histogram_quantile(0.95, sum by (job, le) (rate(sanpi_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "{{job}} p95",
                )
            )
            .with_target(
                query(
                    "histogram_quantile(0.99, sum by (job, le) (rate(sanpi_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "{{job}} p99",
                )
            )
        )
        .with_panel(
            Table()
            .title("Requests by route and status")
            .span(24)
            .height(10)
            .with_target(
                query(
                    "sum by (job, method, route, status) (increase(sanpi_http_requests_total[$__range]))",
                    instant=True,
                    table=True,
                )
            )
        )
    )


DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "campaign-overview": campaign_overview,
    "investment-pacing": investment_pacing,
    "risk-board": risk_board,
    "pipeline-health": pipeline_health,
    "service-red": service_red,
}


def normalise(dashboard: dict[str, Any]) -> dict[str, Any]:
    """What the builders leave out but Grafana expects: panel ids, query refIds (A, B, …) and a
    reducer for single-value panels (the last value, as officials read a gauge)."""
    for number, panel in enumerate(dashboard.get("panels", []), start=1):
        panel["id"] = number
        for index, target in enumerate(panel.get("targets", [])):
            target["refId"] = target.get("refId") or chr(ord("A") + index)
        reduce = panel.get("options", {}).get("reduceOptions")
        if reduce is not None and not reduce.get("calcs"):
            reduce["calcs"] = ["lastNotNull"]
    return dashboard


def render() -> dict[str, str]:
    """file name → JSON text of every dashboard, deterministic (sorted keys)."""
    rendered = {}
    for name, build in DASHBOARDS.items():
        as_dict = json.loads(json.dumps(build().build(), cls=JSONEncoder))
        text = json.dumps(normalise(as_dict), indent=2, sort_keys=True, ensure_ascii=False)
        rendered[f"{name}.json"] = text + "\n"
    return rendered


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed JSON is not current"
    )
    args = parser.parse_args()
    stale = []
    for name, text in render().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(OUT.parents[2])}")
    if stale:
        print(
            f"stale dashboards: {', '.join(stale)}; run: .venv/bin/python deploy/grafana/dashboards.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
