"""`sanpi milestone …`: milestones on the milestone service."""

from __future__ import annotations

from typing import Annotated

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(help="Milestones of a project (milestone service).", no_args_is_help=True)


@app.command("post")
def post(
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
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.post_milestone(
                project_id, {"kind": kind, "date": date, "evidence": evidence or []}
            )
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["id", "kind", "date", "stage"])
