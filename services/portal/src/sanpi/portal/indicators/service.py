"""The indicators of the district and of each park, read together from the registry, and the
charts drawn from them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sanpi.portal.i18n import _
from sanpi.portal.labels import TARGETS, label
from sanpi.portal.upstream import Apis, call

RATES = (
    ("sign_to_start", "#1f3a5f"),
    ("start_to_production", "#2e86c1"),
    ("production_to_effective", "#22884a"),
)


def rate_names() -> dict[str, str]:
    return {
        "sign_to_start": _("Signed projects started"),
        "start_to_production": _("Started projects in production"),
        "production_to_effective": _("Projects in production effective"),
    }


# The four rates officials publish (签约项目履约率 …), in the order bulletins print them; the
# last one is money (到位资金 over 签约额, 万元), the others count projects.
PUBLISHED = ("sign_to_fulfil", "fulfil_to_start", "planned_start", "funds_arrival")
MONEY_RATES = frozenset({"funds_arrival"})


def published_names() -> dict[str, str]:
    return {
        "sign_to_fulfil": _("Signed projects fulfilling"),
        "fulfil_to_start": _("Fulfilling projects started"),
        "planned_start": _("Planned starts made"),
        "funds_arrival": _("Funds arrived"),
    }


async def indicators(
    apis: Apis, *, district: str, parks: list[str], year: int, as_of: dt.date
) -> list[dict[str, Any]]:
    """The district's indicators, then each park's (same year, same day)."""

    async def one(park: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = await call(
            apis.registry.indicators, year=year, park=park, as_of=as_of.isoformat()
        )
        answer["label"] = park or district
        return answer

    return list(await asyncio.gather(one(None), *(one(p) for p in parks)))


def rates_chart(scopes: list[dict[str, Any]]) -> dict[str, Any]:
    """Grouped bars: the three cumulative conversion rates of each scope, in percent."""
    names = rate_names()
    return {
        "animation": False,
        "textStyle": {"fontFamily": "Noto Sans SC, sans-serif"},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 48, "containLabel": True},
        "xAxis": {"type": "category", "data": [s["label"] for s in scopes]},
        "yAxis": {"type": "value", "max": 100, "name": "%"},
        "series": [
            {
                "name": names[key],
                "type": "bar",
                "data": [s["cumulative"][key]["pct"] for s in scopes],
                "itemStyle": {"color": colour},
                "label": {"show": True, "position": "top", "fontSize": 10},
            }
            for key, colour in RATES
        ],
    }


def targets_chart(scope: dict[str, Any]) -> dict[str, Any]:
    """Each target's attainment (%) as bars, with the 序时进度 as a line across them."""
    targets = scope.get("targets", [])
    return {
        "animation": False,
        "textStyle": {"fontFamily": "Noto Sans SC, sans-serif"},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 48, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [label(TARGETS, t["kind"]) for t in targets],
            "axisLabel": {"interval": 0, "width": 80, "overflow": "break"},
        },
        "yAxis": {"type": "value", "name": "%"},
        "series": [
            {
                "name": _("Attainment"),
                "type": "bar",
                "data": [
                    {
                        "value": t["attainment_pct"],
                        "itemStyle": {
                            "color": "#22884a" if t.get("pace") == "AHEAD" else "#c8102e"
                        },
                    }
                    for t in targets
                ],
                "label": {"show": True, "position": "top"},
            },
            {
                "name": _("Time progress"),
                "type": "line",
                "data": [t["time_progress_pct"] for t in targets],
                "symbol": "none",
                "lineStyle": {"type": "dashed", "color": "#c8102e", "width": 2},
                "itemStyle": {"color": "#c8102e"},
            },
        ],
    }
