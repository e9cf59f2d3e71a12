"""What every CLI command shares: the token, the client, printing tables or JSON, failing clearly."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from sanpi.client.sdk import ApiError, SanpiClient, ServiceUrls

console = Console()
err = Console(stderr=True)

TokenOpt = Annotated[
    str | None, typer.Option("--token", help="bearer token (else SANPI_TOKEN, .run/admin.token)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the raw JSON answer")]


def token(explicit: str | None) -> str:
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


def client(explicit_token: str | None) -> SanpiClient:
    return SanpiClient(token(explicit_token), ServiceUrls.from_env())


def fail(exc: ApiError) -> NoReturn:
    err.print(
        f"[red]error {exc.status}[/red]: {exc.problem.get('detail') or exc.problem.get('title')}"
    )
    for problem in exc.problem.get("errors", []):
        err.print(f"  {problem.get('field')}: {problem.get('reason')}")
    raise typer.Exit(1)


def show(value: Any, as_json: bool, columns: list[str] | None = None) -> None:
    """A table of `columns` (of a page's items or one object), or the JSON when asked/no columns."""
    if as_json or columns is None:
        console.print_json(json.dumps(value, ensure_ascii=False))
        return
    rows = value.get("items", [value]) if isinstance(value, dict) else value
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)
