"""`sanpi projects …`: the project ledger on the registry service (list, show, add, import, export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, console, err, fail, show
from sanpi.client.sdk import ApiError
from sanpi.client.sdk.registry import ProgressReader

app = typer.Typer(help="The project ledger (registry service).", no_args_is_help=True)

COLUMNS = ["id", "name", "park", "total_investment_yi", "stage", "chain_tag", "version"]


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="项目名称")],
    park: Annotated[str, typer.Option(help="所属园区, e.g. 梧桐")],
    total_investment: Annotated[int, typer.Option(help="总投资 in 万元")],
    contract_amount: Annotated[int | None, typer.Option(help="签约额 in 万元")] = None,
    enterprise: Annotated[str | None, typer.Option(help="企业名称")] = None,
    category: Annotated[str | None, typer.Option(help="ADVANCED_MANUFACTURING, …")] = None,
    chain_tag: Annotated[str | None, typer.Option(help="IOT, HYDROGEN_STORAGE, …")] = None,
    manufacturing: Annotated[bool, typer.Option(help="制造业项目")] = False,
    planned_start: Annotated[str | None, typer.Option(help="计划开工 YYYY-MM-DD")] = None,
    planned_production: Annotated[str | None, typer.Option(help="计划投产 YYYY-MM-DD")] = None,
    under_construction: Annotated[
        bool, typer.Option(help="register directly as 在建 (UNDER_CONSTRUCTION)")
    ] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a project."""
    body: dict[str, Any] = {
        "name": name,
        "park": park,
        "total_investment": total_investment,
        "contract_amount": contract_amount,
        "category": category,
        "chain_tag": chain_tag,
        "is_manufacturing": manufacturing,
        "planned_start_date": planned_start,
        "planned_production_date": planned_production,
        "initial_stage": "UNDER_CONSTRUCTION" if under_construction else "SIGNED",
    }
    if enterprise:
        body["enterprise"] = {"name": enterprise}
    with client(token) as sanpi:
        try:
            show(sanpi.registry.create_project(body), as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("show")
def show_one(project_id: str, token: TokenOpt = None) -> None:
    """Show one project as JSON."""
    with client(token) as sanpi:
        try:
            show(sanpi.registry.get_project(project_id), True)
        except ApiError as exc:
            fail(exc)


@app.command("list")
def list_projects(
    park: Annotated[str | None, typer.Option(help="only this park")] = None,
    stage: Annotated[str | None, typer.Option(help="only this stage, e.g. SIGNED")] = None,
    category: Annotated[str | None, typer.Option(help="e.g. ADVANCED_MANUFACTURING")] = None,
    chain_tag: Annotated[str | None, typer.Option(help="e.g. HYDROGEN_STORAGE")] = None,
    manufacturing: Annotated[
        bool | None, typer.Option("--manufacturing/--not-manufacturing", help="制造业 or not")
    ] = None,
    period: Annotated[int | None, typer.Option(help="listed in this 期")] = None,
    batch: Annotated[str | None, typer.Option(help="SIGN, START or PRODUCE")] = None,
    min_investment: Annotated[int | None, typer.Option(help="总投资 ≥ 万元")] = None,
    max_investment: Annotated[int | None, typer.Option(help="总投资 ≤ 万元")] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="text in name/enterprise")] = None,
    sort: Annotated[str, typer.Option(help="created_at, name, total_investment, … (- = desc)")] = (
        "created_at"
    ),
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List projects, one page (the next page's cursor is printed below the table)."""
    with client(token) as sanpi:
        try:
            page = sanpi.registry.list_projects(
                park=park,
                stage=stage,
                category=category,
                chain_tag=chain_tag,
                manufacturing=None if manufacturing is None else str(manufacturing).lower(),
                period=period,
                batch=batch,
                min_investment=min_investment,
                max_investment=max_investment,
                q=q,
                sort=sort,
                limit=limit,
                cursor=cursor,
            )
        except ApiError as exc:
            fail(exc)
        show(page, as_json, COLUMNS)
        if not as_json and page.get("next_cursor"):
            err.print(f"more: --cursor {page['next_cursor']}")


@app.command("cancel")
def cancel(
    project_id: str,
    reason_code: Annotated[str, typer.Option(help="INVESTOR_FUNDING, POLICY, LAND, MERGED, …")],
    reason: Annotated[str, typer.Option(help="终止/清退 reason in words")],
    effective_date: Annotated[
        str | None,
        typer.Option(
            help="YYYY-MM-DD the cancellation took effect (required for WITHDRAWN, 调出); "
            "default today. Indicators as of earlier days still count the project"
        ),
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel (终止/清退, or 调出 with --reason-code WITHDRAWN) a project."""
    with client(token) as sanpi:
        try:
            cancelled = sanpi.registry.cancel_project(
                project_id, reason_code, reason, effective_date
            )
            show(cancelled, as_json, COLUMNS)
        except ApiError as exc:
            fail(exc)


@app.command("list-on")
def list_on(
    project_id: str,
    period: Annotated[int, typer.Option(help="期 number")],
    batch: Annotated[str, typer.Option(help="SIGN, START or PRODUCE")],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a project on period N's 签约/开工/投产 list."""
    with client(token) as sanpi:
        try:
            result = sanpi.registry.add_listing(project_id, period, batch)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "period", "batch", "listed_total_investment_yi"])


def _print_report(report: dict[str, Any]) -> None:
    """Every problem on a line of its own (第 12 行「总投资」：…), never cut by a table's width."""
    errors = report["errors"]
    if errors:
        err.print(f"[red]{len(errors)} problem(s)[/red]")
    for error in errors:
        err.print(
            error.get("message") or f"row {error['row']} {error['column']}: {error['reason']}"
        )


def _print_changes(report: dict[str, Any]) -> None:
    """The rows that create or change a project, with the fields that change."""
    table = Table("row", "action", "project", "changes")
    for outcome in report.get("outcomes", []):
        if outcome["action"] not in ("create", "update"):
            continue
        changes = "; ".join(
            f"{c['column']}: {c['old']} → {c['new']}" for c in outcome.get("changes", [])
        )
        table.add_row(str(outcome["row"]), outcome["action"], outcome.get("name") or "", changes)
    if table.row_count:
        console.print(table)


@app.command("import")
def import_sheet(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    dry_run: Annotated[bool, typer.Option(help="check every row, write nothing")] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a ledger sheet (Chinese or English headers). All rows or none: a bad row is reported
    with its row number, column and reason, and nothing is written."""
    size = path.stat().st_size
    with client(token) as sanpi, path.open("rb") as raw:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        )
        with progress:
            task = progress.add_task(f"uploading {path.name}", total=size)
            reader = ProgressReader(raw, lambda n: progress.advance(task, n))
            try:
                report = sanpi.registry.import_sheet(path.name, reader, dry_run=dry_run)  # type: ignore[arg-type]
            except ApiError as exc:
                progress.stop()
                rows = exc.problem.get("rows")
                if rows and not as_json:
                    _print_report({"errors": rows})
                fail(exc)
            progress.update(task, description="checked" if dry_run else "imported")
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    _print_changes(report)
    _print_report(report)
    verb = "would" if dry_run else "did"
    console.print(
        f"{report['rows']} rows (header on row {report.get('header_row', 1)}), "
        f"{report['valid_rows']} valid; {verb} create {report['created']}, update "
        f"{report.get('updated', 0)}; {report.get('unchanged', 0)} unchanged"
    )
    if report["errors"]:
        raise typer.Exit(1)


@app.command("export")
def export_sheet(
    path: Annotated[Path, typer.Argument(help="where to write: .csv or .xlsx")],
    park: Annotated[str | None, typer.Option(help="only this park")] = None,
    stage: Annotated[str | None, typer.Option(help="only this stage")] = None,
    period: Annotated[int | None, typer.Option(help="listed in this 期")] = None,
    batch: Annotated[str | None, typer.Option(help="SIGN, START or PRODUCE")] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="text in name/enterprise")] = None,
    english: Annotated[bool, typer.Option(help="English headers and codes")] = False,
    token: TokenOpt = None,
) -> None:
    """Export the (filtered) ledger; the file imports back unchanged."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    with client(token) as sanpi:
        try:
            content = sanpi.registry.export_sheet(
                fmt,
                park=park,
                stage=stage,
                period=period,
                batch=batch,
                q=q,
                headers="en" if english else "zh",
            )
        except ApiError as exc:
            fail(exc)
    path.write_bytes(content)
    console.print(f"wrote {path} ({len(content)} bytes)")


@app.command("template")
def template(
    path: Annotated[Path, typer.Argument(help="where to write the .xlsx")] = Path(
        "sanpi-projects-template.xlsx"
    ),
    english: Annotated[bool, typer.Option(help="English headers and codes")] = False,
    token: TokenOpt = None,
) -> None:
    """Write the empty ledger template: a note row with each column's unit (万元) and format,
    dropdowns for parks, chains, categories, stages and 是/否. Fill it in and `sanpi projects
    import` it; an export has the same layout and updates the projects it lists."""
    with client(token) as sanpi:
        try:
            content = sanpi.registry.template("xlsx", headers="en" if english else "zh")
        except ApiError as exc:
            fail(exc)
    path.write_bytes(content)
    console.print(f"wrote {path} ({len(content)} bytes)")
