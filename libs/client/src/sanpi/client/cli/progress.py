"""`sanpi progress …`, `sanpi alerts`, `sanpi evaluate`: reports, plans and alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, console, fail, show
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


@app.command("template")
def template(
    xun: Annotated[
        str, typer.Option("--xun", "--period", help="2023-03-X2 (March 中旬) or 2023-03 (月报)")
    ],
    park: Annotated[str, typer.Option(help="the park, e.g. 梧桐")],
    out: Annotated[
        Path | None,
        typer.Option(help="where to write (default sanpi-progress-<period>-<park>.xlsx)"),
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Write the 旬报/月报 sheet of a period for one park: a row per project that reports, its id,
    name and last cumulative figure filled in; units in the note row, checks and dropdowns."""
    path = out or Path(f"sanpi-progress-{xun}-{park}.xlsx")
    with client(token) as sanpi:
        try:
            content = sanpi.milestone.progress_template(xun, park)
        except ApiError as exc:
            fail(exc)
    path.write_bytes(content)
    console.print(f"wrote {path} ({len(content)} bytes)")


def bulletin(
    period: Annotated[str, typer.Argument(help="2023-03-X2 (a 旬) or 2023-03 (a month)")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the A4 PDF here")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="write the XLSX here")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The 通报 of a 旬 or month: the district against its targets and 序时进度, the parks
    ranked with 红/黄/绿 marks, red projects, new starts. --pdf / --xlsx write the files;
    otherwise the ranking and the red projects are printed."""
    with client(token) as sanpi:
        try:
            if pdf is not None:
                pdf.write_bytes(sanpi.milestone.bulletin(period, "pdf"))
                console.print(f"wrote {pdf}")
            if xlsx is not None:
                xlsx.write_bytes(sanpi.milestone.bulletin(period, "xlsx"))
                console.print(f"wrote {xlsx}")
            if pdf is not None or xlsx is not None:
                return
            body = sanpi.milestone.bulletin(period)
        except ApiError as exc:
            fail(exc)
    if as_json:
        print(json.dumps(body, ensure_ascii=False))
        return
    console.print(f"[bold]{body['title']}[/bold] {body['period_label']}（截至 {body['as_of']}）")
    ranking = Table("排名", "园区", "标识", "项目数", "红色", "完成率", "序时进度", "差距")
    for p in body["parks"]:
        inv = p["investment"]
        ranking.add_row(
            str(p["rank"]),
            p["park"],
            p["mark_zh"],
            str(p["projects"]),
            str(p["red"]),
            _pct(inv["completion_pct"]),
            _pct(inv["expected_pct"]),
            "—" if inv["gap_pts"] is None else f"{inv['gap_pts']:+.1f}",
        )
    console.print(ranking)
    reds = Table("红色预警项目", "园区", "责任单位", "规则")
    for r in body["red_projects"]:
        rules = "；".join(f"{h['rule']} {h['title']}" for h in r["rules"])
        reds.add_row(r["name"], r["park"], r["responsible_unit"] or "—", rules)
    console.print(reds)
    console.print(f"本期新开工 {len(body['started'])} 个，新投产 {len(body['produced'])} 个")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"
