"""`sanpi evidence …`: site photos of a project, uploaded to the milestone service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, err, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(
    help="Site photos (evidence) of a project: upload one, list them.", no_args_is_help=True
)


@app.command("upload")
def upload(
    project_id: str,
    photo: Annotated[
        Path, typer.Argument(help="a JPEG, PNG or WebP photo", exists=True, dir_okay=False)
    ],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload a site photo; cite the printed uri in `sanpi milestone post --evidence URI`. The
    service reads the day it was taken from the photo's EXIF."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.upload_evidence(project_id, photo)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["uri", "captured_on", "content_type", "size_bytes", "sha256"])


@app.command("list")
def list_photos(
    project_id: str,
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The project's uploaded photos, oldest first."""
    params: dict[str, object] = {"limit": limit}
    if cursor:
        params["cursor"] = cursor
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.evidence(project_id, **params)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["uri", "filename", "captured_on", "uploaded_by"])
        if result.get("next_cursor") and not as_json:
            err.print(f"more: --cursor {result['next_cursor']}")
