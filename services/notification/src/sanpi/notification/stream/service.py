"""Stream rules: append every consumed event with its routing, read matching ones after a position."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sanpi.events import CloudEvent, Severity
from sanpi.kit import Database, UnitOfWork
from sanpi.notification.routing.filters import Filter, Routing, matches
from sanpi.notification.stream import repository
from sanpi.notification.stream.models import StreamEvent

READ_BATCH = 500


ROUTING_FIELDS = tuple(f.name for f in dataclasses.fields(Routing))


def _routing_json(routing: Routing) -> dict[str, Any]:
    # Not dataclasses.asdict: its deep copy cost a tenth of an event's CPU in a batch (profiled).
    values = {name: getattr(routing, name) for name in ROUTING_FIELDS}
    values["periods"] = sorted(routing.periods)
    return values


def routing_of(values: dict[str, Any]) -> Routing:
    """The routing the log stored with an event (its JSON form) as dispatch used it."""
    fields = dict(values)
    fields["periods"] = frozenset(fields.get("periods") or ())
    if fields.get("severity"):
        fields["severity"] = Severity(fields["severity"])
    return Routing(**fields)


def append(uow: UnitOfWork, event: CloudEvent, routing: Routing, *, now: dt.datetime) -> None:
    """Adds the event to the log once (a redelivered record is not appended again)."""
    repository.add_once(
        uow,
        {
            "event_id": event.id,
            "event_type": event.type,
            "routing": _routing_json(routing),
            "payload": event.model_dump_json(exclude_none=True),
            "appended_at": now,
        },
    )


async def position(db: Database) -> int:
    """The current end of the log: a client without Last-Event-ID starts from here."""
    async with db.read() as session:
        return await repository.last_seq(session)


async def matching_after(
    db: Database, seq: int, wanted: Filter
) -> AsyncIterator[tuple[int, StreamEvent | None]]:
    """Yields (position, event) for events after `seq` that match, and (position, None) at the
    end of each batch, so that the caller advances past non-matching events too."""
    while True:
        async with db.read() as session:
            rows = await repository.after(session, seq, READ_BATCH)
        for row in rows:
            assert row.seq is not None
            seq = row.seq
            if matches(wanted, routing_of(row.routing)):
                yield seq, row
        yield seq, None
        if len(rows) < READ_BATCH:
            return


async def prune(db: Database, *, now: dt.datetime, retention_s: float) -> None:
    async with db.transaction() as uow:
        await repository.prune(uow.session, now - dt.timedelta(seconds=retention_s))
