"""`sanpi-admin token issue`: mint bearer tokens (admins only: it needs the JWT secret)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)

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
    ttl_hours: Annotated[
        float, typer.Option(help="lifetime in hours; at most SANPI_JWT_MAX_TTL_S (24 h)")
    ] = 12.0,
    audience: Annotated[
        list[str] | None,
        typer.Option(
            help="a service the token is for: registry, milestone or notification (repeat; "
            "default: all three)"
        ),
    ] = None,
    secret_file: Annotated[
        Path | None, typer.Option(help="file holding the JWT secret (else SANPI_JWT_SECRET)")
    ] = None,
) -> None:
    """Print a signed bearer token for ROLE (and PARKs for operators), for the AUDIENCE
    services (each service refuses a token not meant for it)."""
    from sanpi.kit.auth import MAX_TTL, SERVICE_AUDIENCES, Role, audience_of, issue_token

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
    audiences = [a if a.startswith("sanpi-") else audience_of(a) for a in audience or []]
    unknown = sorted(set(audiences) - set(SERVICE_AUDIENCES))
    if unknown:
        err.print(
            f"[red]unknown audience {', '.join(unknown)}[/red]: registry, milestone or notification"
        )
        raise typer.Exit(2)
    limit = os.environ.get("SANPI_JWT_MAX_TTL_S")
    try:
        max_ttl = dt.timedelta(seconds=float(limit)) if limit else MAX_TTL
        token = issue_token(
            secret,
            subject=subject,
            role=parsed,
            parks=park or [],
            ttl=dt.timedelta(hours=ttl_hours),
            audience=audiences or None,
            max_ttl=max_ttl,
        )
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    print(token)
