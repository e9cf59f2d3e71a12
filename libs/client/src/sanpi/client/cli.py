"""The `sanpi` command line: tokens, projects, milestones and subscriptions from a terminal."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sanpi.client.sdk import ApiError, SanpiClient, ServiceUrls

app = typer.Typer(
    help="sanpi (三批): follow 三个一批 projects from signing to production.\n\n"
    "Service URLs come from SANPI_REGISTRY_URL, SANPI_MILESTONE_URL and SANPI_NOTIFICATION_URL "
    "(default: the local ports 8001-8003); the token from --token, SANPI_TOKEN or .run/admin.token.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Mint bearer tokens (admins only: needs the JWT secret).", no_args_is_help=True
)
projects_app = typer.Typer(help="The project ledger (registry service).", no_args_is_help=True)
milestone_app = typer.Typer(
    help="Milestones of a project (milestone service).", no_args_is_help=True
)
app.add_typer(token_app, name="token")
app.add_typer(projects_app, name="projects")
app.add_typer(milestone_app, name="milestone")

console = Console()
err = Console(stderr=True)

TokenOpt = Annotated[
    str | None, typer.Option("--token", help="bearer token (else SANPI_TOKEN, .run/admin.token)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the raw JSON answer")]


def _token(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("SANPI_TOKEN"):
        return os.environ["SANPI_TOKEN"]
    path = Path(".run/admin.token")
    if path.exists():
        return path.read_text().strip()
    err.print(
        "[red]no token[/red]: pass --token, set SANPI_TOKEN, or run `make up` (writes .run/admin.token)"
    )
    raise typer.Exit(2)


def _client(token: str | None) -> SanpiClient:
    return SanpiClient(_token(token), ServiceUrls.from_env())


def _fail(exc: ApiError) -> None:
    err.print(
        f"[red]error {exc.status}[/red]: {exc.problem.get('detail') or exc.problem.get('title')}"
    )
    for problem in exc.problem.get("errors", []):
        err.print(f"  {problem.get('field')}: {problem.get('reason')}")
    raise typer.Exit(1)


def _print(value: Any, as_json: bool, columns: list[str] | None = None) -> None:
    if as_json or columns is None:
        console.print_json(json.dumps(value, ensure_ascii=False))
        return
    rows = value.get("items", [value]) if isinstance(value, dict) else value
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


@token_app.command("issue")
def token_issue(
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "viewer",
    subject: Annotated[str, typer.Option(help="who the token is for (becomes `sub`)")] = "admin",
    park: Annotated[
        list[str] | None, typer.Option(help="a park an operator may write (repeat)")
    ] = None,
    ttl_hours: Annotated[float, typer.Option(help="lifetime in hours")] = 12.0,
    secret_file: Annotated[
        Path | None, typer.Option(help="file holding the JWT secret (else SANPI_JWT_SECRET)")
    ] = None,
) -> None:
    """Print a signed bearer token for ROLE (and PARKs for operators)."""
    from sanpi.kit.auth import Role, issue_token

    secret = (
        secret_file.read_text().strip() if secret_file else os.environ.get("SANPI_JWT_SECRET", "")
    )
    if not secret:
        err.print("[red]no secret[/red]: pass --secret-file or set SANPI_JWT_SECRET")
        raise typer.Exit(2)
    try:
        parsed = Role(role)
    except ValueError:
        err.print(f"[red]unknown role {role!r}[/red]: admin, operator or viewer")
        raise typer.Exit(2) from None
    print(
        issue_token(
            secret,
            subject=subject,
            role=parsed,
            parks=park or [],
            ttl=dt.timedelta(hours=ttl_hours),
        )
    )


@projects_app.command("add")
def projects_add(
    name: Annotated[str, typer.Option(help="项目名称")],
    park: Annotated[str, typer.Option(help="所属园区, e.g. 梧桐")],
    total_investment: Annotated[int, typer.Option(help="总投资 in 万元")],
    planned_start: Annotated[str | None, typer.Option(help="计划开工 YYYY-MM-DD")] = None,
    planned_production: Annotated[str | None, typer.Option(help="计划投产 YYYY-MM-DD")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a project."""
    body = {
        "name": name,
        "park": park,
        "total_investment": total_investment,
        "planned_start_date": planned_start,
        "planned_production_date": planned_production,
    }
    with _client(token) as client:
        try:
            _print(
                client.create_project(body),
                as_json,
                ["id", "name", "park", "total_investment_yi", "stage"],
            )
        except ApiError as exc:
            _fail(exc)


@projects_app.command("show")
def projects_show(project_id: str, token: TokenOpt = None) -> None:
    """Show one project as JSON."""
    with _client(token) as client:
        try:
            _print(client.get_project(project_id), True)
        except ApiError as exc:
            _fail(exc)


@projects_app.command("list")
def projects_list(
    park: Annotated[str | None, typer.Option(help="only this park")] = None,
    stage: Annotated[str | None, typer.Option(help="only this stage, e.g. SIGNED")] = None,
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List projects (first page)."""
    with _client(token) as client:
        try:
            page = client.list_projects(park=park, stage=stage, limit=limit)
        except ApiError as exc:
            _fail(exc)
        _print(page, as_json, ["id", "name", "park", "total_investment_yi", "stage"])


@milestone_app.command("post")
def milestone_post(
    project_id: str,
    kind: Annotated[
        str, typer.Option(help="STARTED, IN_PRODUCTION, FULFILLED, EFFECTIVE, TOPPED_OUT…")
    ],
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    evidence: Annotated[list[str] | None, typer.Option(help="URI of evidence (repeat)")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a milestone; STARTED and IN_PRODUCTION need --evidence."""
    with _client(token) as client:
        try:
            result = client.post_milestone(
                project_id, {"kind": kind, "date": date, "evidence": evidence or []}
            )
        except ApiError as exc:
            _fail(exc)
        _print(result, as_json, ["id", "kind", "date", "stage"])


@app.command("subscribe")
def subscribe(
    url: Annotated[str, typer.Argument(help="webhook receiver URL")],
    event_type: Annotated[
        list[str] | None, typer.Option(help="event type or prefix* (repeat); none = all")
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Subscribe a webhook; prints the subscription with its whsec_ signing secret."""
    with _client(token) as client:
        try:
            result = client.subscribe(
                {"channel": "webhook", "url": url, "event_types": event_type or []}
            )
        except ApiError as exc:
            _fail(exc)
        _print(result, True)


def main() -> None:
    app()
