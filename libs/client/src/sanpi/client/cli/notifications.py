"""`sanpi subscribe …`: subscriptions on the notification service."""

from __future__ import annotations

from typing import Annotated

import typer

from sanpi.client.cli.common import TokenOpt, client, fail, show
from sanpi.client.sdk import ApiError


def subscribe(
    url: Annotated[str, typer.Argument(help="webhook receiver URL")],
    event_type: Annotated[
        list[str] | None, typer.Option(help="event type or prefix* (repeat); none = all")
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Subscribe a webhook; prints the subscription with its whsec_ signing secret."""
    with client(token) as sanpi:
        try:
            result = sanpi.notification.subscribe(
                {"channel": "webhook", "url": url, "event_types": event_type or []}
            )
        except ApiError as exc:
            fail(exc)
        show(result, True)
