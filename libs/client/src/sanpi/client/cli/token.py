"""`sanpi token issue`: mint bearer tokens (admins only: it needs the JWT secret)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from sanpi.client.cli.common import err

app = typer.Typer(
    help="Mint bearer tokens (admins only: needs the JWT secret).", no_args_is_help=True
)


@app.command("issue")
def issue(
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
