"""A real Prometheus (Debian's package) for tests, and the queries the dashboards and rules hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"

# Grafana macros with the values a 1 s scrape interval implies (4 x scrape interval for rates).
MACROS = {"$__rate_interval": "15s", "$__interval": "1s", "$__range": "1h", "$__range_s": "3600"}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str


def dashboard_queries() -> Iterator[PanelQuery]:
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                yield PanelQuery(path.stem, panel["title"], target["expr"])


def recording_rules() -> Iterator[tuple[str, str]]:
    """(record name, expr) of every recording rule in deploy/prometheus/rules."""
    for path in sorted(RULES.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    yield rule["record"], rule["expr"]


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Replaces Grafana macros and template variables ($park, $period, $year) by concrete values."""
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    for name, value in variables.items():
        expr = expr.replace(f"${name}", value)
    return expr


class PrometheusApi:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def format_query(self, expr: str) -> str:
        """Parses `expr` on the server (400 with the parse error when it is not valid PromQL)."""
        result: str = self.get("/api/v1/format_query", query=expr)
        return result

    def instant(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = (
            data["result"] if isinstance(data["result"], list) else [data["result"]]
        )
        return result
