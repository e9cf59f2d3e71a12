"""HTTP route of the live stream: GET /v1/stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from sanpi.events import Category, ChainTag, Severity
from sanpi.kit import Authenticated, FieldProblem, InvalidInput, ReadSessionDep, RuntimeDep
from sanpi.kit.messages import MessageError
from sanpi.notification.routing.filters import Filter
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream import service
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions import service as subscriptions
from sanpi.notification.subscriptions.schemas import (
    MinInvestment,
    PeriodNumber,
    known_event_types,
)

router = APIRouter(tags=["stream"])

# Tells EventSource clients to reconnect after 1 s when the connection drops.
RECONNECT_MS = 1000


@dataclass(frozen=True)
class StreamStart:
    wanted: Filter
    after: int
    # The token's exp (seconds since the epoch): the stream ends then, and the client must
    # come back with a fresh token.
    until: float


async def stream_start(
    principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="resume after this event")
    ] = None,
    subscription: Annotated[
        str | None, Query(description="use the filters of this subscription of yours")
    ] = None,
    event_type: Annotated[list[str], Query(description="type or prefix*, repeatable")] = [],  # noqa: B006
    min_severity: Severity | None = None,
    park: Annotated[list[str], Query()] = [],  # noqa: B006
    chain_tag: Annotated[list[ChainTag], Query()] = [],  # noqa: B006
    category: Annotated[list[Category], Query()] = [],  # noqa: B006
    period: Annotated[list[PeriodNumber], Query()] = [],  # noqa: B006
    project_id: Annotated[list[str], Query()] = [],  # noqa: B006
    min_investment: Annotated[MinInvestment | None, Query()] = None,
) -> StreamStart:
    """Parses the filters and the resume position before the stream starts, so that bad input is
    a problem+json answer, not a broken stream."""
    try:
        known_event_types(event_type)
    except MessageError as exc:
        raise InvalidInput.naming([FieldProblem("event_type", exc.message)]) from exc
    if subscription is not None:
        owned = await subscriptions.get_owned(
            session, subscription_id=subscription, principal=principal
        )
        wanted = subscriptions.filter_of(owned)
    else:
        wanted = Filter(
            event_types=tuple(event_type),
            min_severity=min_severity,
            parks=frozenset(park),
            chain_tags=frozenset(str(c) for c in chain_tag),
            categories=frozenset(str(c) for c in category),
            periods=frozenset(period),
            project_ids=frozenset(project_id),
            min_investment=min_investment,
        )
    if last_event_id is None or not last_event_id.strip():
        return StreamStart(wanted, await service.position(runtime.db), principal.expires_at)
    if not last_event_id.strip().isdigit():
        raise InvalidInput(
            refusals.BAD_LAST_EVENT_ID(),
            errors=[FieldProblem("header.Last-Event-ID", refusals.NOT_A_POSITION())],
        )
    return StreamStart(wanted, int(last_event_id.strip()), principal.expires_at)


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    start: Annotated[StreamStart, Depends(stream_start)], runtime: RuntimeDep, request: Request
) -> AsyncIterable[ServerSentEvent]:
    """Live events matching the filters (the same as a subscription's, or `subscription=<id>`).
    Each event's `id` is its stream position: reconnect with `Last-Event-ID` and nothing is
    missed (events stay replayable for the retention period). A `: heartbeat` comment comes
    every few seconds when nothing happens. The stream ends when the token expires (a last
    `: token expired` comment): reconnect with a fresh token and `Last-Event-ID`."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    loop = asyncio.get_running_loop()
    seq = start.after
    yield ServerSentEvent(comment="sanpi stream", retry=RECONNECT_MS)
    next_heartbeat = loop.time() + settings.stream_heartbeat_s
    while not runtime.stopping.is_set():
        async for position, row in service.matching_after(runtime.db, seq, start.wanted):
            seq = position
            if row is not None:
                yield ServerSentEvent(id=str(position), event=row.event_type, raw_data=row.payload)
        if await request.is_disconnected():
            return
        if time.time() >= start.until:
            yield ServerSentEvent(comment="token expired")
            return
        now = loop.time()
        if now >= next_heartbeat:
            yield ServerSentEvent(comment="heartbeat")
            next_heartbeat = now + settings.stream_heartbeat_s
        await asyncio.sleep(
            min(settings.stream_poll_s, max(0.0, next_heartbeat - now), start.until - time.time())
        )
