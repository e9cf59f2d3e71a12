"""`sanpi progress …`, `sanpi alerts`, `sanpi evaluate`: reports, plans and alerts."""

from __future__ import annotations

from typing import Annotated

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(help="旬/月 progress reports and investment plans.", no_args_is_help=True)


@app.command("report")
def report(
    project_id: str,
    period: Annotated[str, typer.Option(help="2023-03-X2 (March 中旬) or 2023-03 (the month)")],
    cum: Annotated[int, typer.Option(help="累计完成投资, 万元")],
    ytd: Annotated[int, typer.Option(help="本年完成投资, 万元")],
    funds: Annotated[int | None, typer.Option(help="到位资金 (cumulative), 万元")] = None,
    physical: Annotated[float | None, typer.Option(help="形象进度 %")] = None,
    narrative: Annotated[str, typer.Option(help="what happened")] = "",
    problem: Annotated[list[str] | None, typer.Option(help="存在问题 (repeat)")] = None,
    correction: Annotated[
        bool, typer.Option(help="the figures correct an earlier report (may lower it)")
    ] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a progress report; late ones are accepted and marked late."""
    body = {
        "period_key": period,
        "completed_investment_cum": cum,
        "completed_investment_ytd": ytd,
        "funds_arrived_cum": funds,
        "physical_progress_pct": physical,
        "narrative": narrative,
        "problems": [{"description": p} for p in problem or []],
        "correction": correction,
    }
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.report_progress(project_id, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["period_key", "completed_investment_cum", "deadline", "late"])


@app.command("plan")
def plan(
    project_id: str,
    year: Annotated[int, typer.Option(help="calendar year")],
    annual: Annotated[int, typer.Option(help="年度计划投资, 万元")],
    monthly: Annotated[
        str | None, typer.Option(help="12 comma-separated monthly amounts (must add up)")
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a year's investment plan, optionally split by month."""
    body: dict[str, object] = {"annual_plan": annual}
    if monthly:
        body["monthly"] = [int(v) for v in monthly.split(",")]
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.set_investment_plan(project_id, year, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "year", "annual_plan", "source"])


def alerts(
    project_id: Annotated[str | None, typer.Option("--project", help="one project")] = None,
    rule: Annotated[str | None, typer.Option(help="R02, R04, …")] = None,
    severity: Annotated[str | None, typer.Option(help="blue, yellow, orange, red")] = None,
    park: Annotated[str | None, typer.Option(help="park name")] = None,
    state: Annotated[str | None, typer.Option(help="FIRING or RESOLVED")] = "FIRING",
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List alerts (firing ones by default)."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.alerts(
                project_id=project_id,
                rule=rule,
                severity=severity,
                park=park,
                state=state,
                limit=limit,
                cursor=cursor,
            )
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["alert_key", "severity", "state", "park", "title"])


def evaluate(
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    pin: Annotated[bool, typer.Option(help="keep evaluating as of that day")] = False,
    token: TokenOpt = None,
) -> None:
    """Admin only: run every alert rule as of a day."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.evaluate(as_of, pin)
        except ApiError as exc:
            fail(exc)
        show(result, True)


def lights(token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Traffic lights per park."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.traffic_lights()
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["park", "projects", "overall", "counts"])
