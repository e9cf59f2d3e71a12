"""What the alert pages show: a page of alerts as the notification service keeps them (with their
acknowledgements), and the parks ranked by the colours of their projects (milestone's lights)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sanpi.portal.alerts.schemas import AlertFilters
from sanpi.portal.i18n import _, language
from sanpi.portal.labels import SEVERITIES, SEVERITY_ORDER, label
from sanpi.portal.upstream import Apis, call

COLOURS = {
    "red": "#c8102e",
    "orange": "#e06c00",
    "yellow": "#f2c200",
    "blue": "#1f6fd1",
    "green": "#22884a",
}


@dataclass
class AlertsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int]


async def alerts_page(
    apis: Apis, *, filters: AlertFilters, parks: list[str] | None, page_size: int
) -> AlertsPage:
    answer = await call(
        apis.notification.alert_states,
        firing=True,
        acknowledged=filters.tab == "acknowledged",
        park=[filters.park] if filters.park else parks,
        severity=filters.severity,
        rule=filters.rule,
        limit=page_size,
        cursor=filters.cursor,
    )
    items = [headed(in_language(a)) for a in answer.get("items", [])]
    return AlertsPage(items, answer.get("next_cursor"), dict(answer.get("counts", {})))


def in_language(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert with its title and message in the page's language: the English the rules wrote
    beside the Chinese, when there is one (an alert from before has none: Chinese)."""
    if language() != "en":
        return alert
    english = {
        name: alert[f"{name}_en"] for name in ("title", "message") if alert.get(f"{name}_en")
    }
    return {**alert, **english}


def headed(alert: dict[str, Any]) -> dict[str, Any]:
    return {**alert, "headline": headline(alert)}


def headline(alert: dict[str, Any]) -> str:
    """The alert's title without the project's name in front (the page shows it as a link)."""
    title = str(alert.get("title") or "")
    name = str(alert.get("project_name") or "")
    if name and title.startswith(name):
        title = title[len(name) :].lstrip(":： ")
    return title


@dataclass
class ParkRank:
    rank: int
    park: str
    projects: int
    counts: dict[str, int]
    overall: str
    red_share: float
    warned_share: float


def ranking(lights: list[dict[str, Any]]) -> list[ParkRank]:
    """Parks from best to worst, as the 旬 bulletins rank them: fewest red projects (as a share of
    the park's), then orange, then yellow; ties share a rank."""
    rows = []
    for light in lights:
        total = int(light.get("projects") or 0)
        counts = {str(k): int(v) for k, v in (light.get("counts") or {}).items()}
        share = {
            c: (counts.get(c, 0) / total if total else 0.0) for c in ("red", "orange", "yellow")
        }
        rows.append((share["red"], share["orange"], share["yellow"], light, counts, total))
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]["park"]))
    out: list[ParkRank] = []
    previous: tuple[float, float, float] | None = None
    for position, (red, orange, yellow, light, counts, total) in enumerate(rows, start=1):
        key = (red, orange, yellow)
        rank = out[-1].rank if previous == key and out else position
        previous = key
        out.append(
            ParkRank(
                rank=rank,
                park=str(light["park"]),
                projects=total,
                counts=counts,
                overall=str(light.get("overall") or "green"),
                red_share=red,
                warned_share=red + orange + yellow,
            )
        )
    return out


def ranking_chart(ranks: list[ParkRank]) -> dict[str, Any]:
    """Stacked bars: each park's projects by colour (colour and word in the legend)."""
    parks = [r.park for r in ranks]
    series = [
        {
            "name": label(SEVERITIES, colour),
            "type": "bar",
            "stack": "projects",
            "data": [r.counts.get(colour, 0) for r in ranks],
            "itemStyle": {"color": COLOURS[colour]},
        }
        for colour in SEVERITY_ORDER
    ]
    return {
        "animation": False,
        "textStyle": {"fontFamily": "Noto Sans SC, sans-serif"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": parks},
        "yAxis": {"type": "value", "name": _("Projects")},
        "series": series,
    }


async def park_ranking(apis: Apis) -> list[ParkRank]:
    lights = await call(apis.milestone.traffic_lights)
    return ranking(list(lights.get("items", [])))
