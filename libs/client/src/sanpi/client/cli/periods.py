"""`sanpi periods …`, `sanpi targets …` and `sanpi indicators`: the campaign calendar and its goals."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, console, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(help="Periods (期) of the campaign (registry service).", no_args_is_help=True)
targets = typer.Typer(help="Annual targets per scope (registry service).", no_args_is_help=True)

COLUMNS = ["number", "event_date", "quarter", "status"]


@app.command("list")
def list_periods(token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Every period."""
    with client(token) as sanpi:
        try:
            show(sanpi.registry.list_periods(), as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("add")
def add(
    number: Annotated[int, typer.Argument(help="期 number, 7 = 第七期")],
    event_date: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a period for declaration."""
    with client(token) as sanpi:
        try:
            show(sanpi.registry.create_period(number, event_date), as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("hold")
def hold(number: int, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Mark the period's event as held."""
    with client(token) as sanpi:
        try:
            show(sanpi.registry.move_period(number, "hold"), as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("close")
def close(number: int, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Close the period: its lists become final."""
    with client(token) as sanpi:
        try:
            show(sanpi.registry.move_period(number, "close"), as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("listings")
def listings(
    number: int,
    batch: Annotated[str | None, typer.Option(help="SIGN, START or PRODUCE")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The period's lists (first 500 entries)."""
    with client(token) as sanpi:
        try:
            page = sanpi.registry.list_listings(period=number, batch=batch, limit=500)
        except ApiError as exc:
            fail(exc)
        show(page, as_json, ["period", "batch", "project_id", "listed_total_investment_yi"])


@targets.command("set")
def set_target(
    year: int,
    kind: Annotated[str, typer.Argument(help="SIGN_AMOUNT, NEW_START_INVESTMENT, MFG_SIGN_…")],
    value: Annotated[int, typer.Argument(help="万元, or 个 for MFG_SIGN_COUNT")],
    scope: Annotated[str, typer.Option(help="the district or a park")] = "郑州高新区",
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set an annual target."""
    with client(token) as sanpi:
        try:
            result = sanpi.registry.set_target(year, scope, kind, value)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["year", "scope", "kind", "value"])


@targets.command("list")
def list_targets(
    year: Annotated[int | None, typer.Option()] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Targets, by year and scope."""
    with client(token) as sanpi:
        try:
            show(
                sanpi.registry.list_targets(year=year), as_json, ["year", "scope", "kind", "value"]
            )
        except ApiError as exc:
            fail(exc)


def _pct(rate: dict[str, Any]) -> str:
    pct = rate["pct"]
    return "—" if pct is None else f"{pct}% ({rate['numerator']}/{rate['denominator']})"


def indicators(
    year: Annotated[int | None, typer.Option(help="default: this year")] = None,
    park: Annotated[str | None, typer.Option(help="one park; default: the district")] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Batches per period, conversion rates (履约率, 计划开工率 too) and targets against 序时进度."""
    with client(token) as sanpi:
        try:
            result = sanpi.registry.indicators(year=year, park=park, as_of=as_of)
        except ApiError as exc:
            fail(exc)
    if as_json:
        show(result, True)
        return
    periods = Table(
        "期",
        "date",
        "签约 个/亿元",
        "开工 个/亿元",
        "投产 个/亿元",
        "签约项目开工率",
        title=f"{result['scope']} {result['year']}",
    )
    for p in result["periods"]:
        b = p["batches"]
        periods.add_row(
            str(p["period"]),
            p["event_date"],
            *(f"{b[k]['count']} / {b[k]['amount_yi']}" for k in ("SIGN", "START", "PRODUCE")),
            _pct(p["cohort"]["sign_to_start"]),
        )
    console.print(periods)
    rates = Table("rate", "cumulative", f"{result['year']} cohort")
    for key, label in (
        ("sign_to_start", "签约项目开工率"),
        ("start_to_production", "开工项目投产率"),
        ("production_to_effective", "投产项目达效率"),
    ):
        rates.add_row(label, _pct(result["cumulative"][key]), _pct(result["cohort"][key]))
    for key, label in (
        ("sign_to_fulfil", "签约项目履约率"),
        ("fulfil_to_start", "履约项目开工率"),
        ("planned_start", "计划开工率"),
    ):
        rates.add_row(label, _pct(result["published"][key]), "—")
    console.print(rates)
    goals = Table(
        "target", "value", "actual", "attainment", f"序时进度 {result['time_progress_pct']}%", "gap"
    )
    for t in result["targets"]:
        goals.add_row(
            t["kind"], str(t["target"]), str(t["actual"]), f"{t['attainment_pct']}%",
            str(t["pace"]), f"{t['gap_pts']:+} pts" if t["gap_pts"] is not None else "—",
        )  # fmt: skip
    console.print(goals)
