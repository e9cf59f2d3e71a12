"""`sanpi projects …`: the project ledger on the registry service."""

from __future__ import annotations

from typing import Annotated

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(help="The project ledger (registry service).", no_args_is_help=True)

COLUMNS = ["id", "name", "park", "total_investment_yi", "stage"]


@app.command("add")
def add(
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
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List projects (first page)."""
    with client(token) as sanpi:
        try:
            page = sanpi.registry.list_projects(park=park, stage=stage, limit=limit)
        except ApiError as exc:
            fail(exc)
        show(page, as_json, COLUMNS)
