"""After the notification database is restored from a backup: the notifications delivered since
the backup are read back from sanpi.notifications and recorded as delivered, so that replaying
the topics from the backup's offsets notifies nobody a second time.

    python -m sanpi.notification recover-deliveries POSITIONS.json

POSITIONS.json is the `kafka.json` of a backup (`make backup`): the end offsets of
sanpi.notifications then (the deliveries after it are the ones the database no longer knows) and
this service's committed offsets (the events after them carry those deliveries' content).
Reminders and escalation e-mails carry no event of their own: one sent between the backup and
the restore may go out once more (a red alert's reminder comes every 2 hours)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanpi.events import CloudEvent, EventDecodeError, NotificationDelivered, Topic, from_value
from sanpi.kit import Database
from sanpi.kit.migrations import upgrade
from sanpi.kit.offsets import KafkaPositions, Offsets, read_from
from sanpi.notification.channels.templates import Kind
from sanpi.notification.delivery import repository
from sanpi.notification.delivery.models import DeliveryStatus
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import NotificationSettings


@dataclass(frozen=True)
class Recovered:
    """What the recovery found in sanpi.notifications and recorded."""

    delivered_since: int  # deliveries announced after the backup
    marked: int  # known to the database (pending then), now recorded as delivered
    recorded: int  # unknown to it (made after the backup), now recorded with their events
    without_events: int  # unknown, and their events were not found on the topics


def _events(records: Sequence[Any], wanted_type: str | None = None) -> list[CloudEvent]:
    events = []
    for record in records:
        try:
            event = from_value(record.value)
        except EventDecodeError:
            continue
        if wanted_type is None or event.type == wanted_type:
            events.append(event)
    return events


def _recorded_rows(
    delivered: NotificationDelivered, at: dt.datetime, carried: list[CloudEvent]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A delivery and its carried events as the fan-out writes them, already delivered."""
    first = carried[0]
    delivery = {
        "id": delivered.notification_id,
        "subscription_id": delivered.subscription_id,
        "channel": delivered.channel,
        "target": None,
        "kind": str(Kind.EVENT if len(carried) == 1 else Kind.DIGEST),
        "group_key": None,
        "alert_key": None,
        "severity": None,
        "event_id": first.id,
        "event_type": first.type,
        "event_time": first.time,
        "repeat": 0,
        "escalation_level": 0,
        "status": DeliveryStatus.DELIVERED.value,
        "attempts": delivered.attempts,
        "attempts_before_replay": 0,
        "next_attempt_at": at,
        "held_until": None,
        "last_error": None,
        "created_at": at,
        "delivered_at": at,
        "acknowledged_at": None,
        "acknowledged_by": None,
    }
    rows = [
        {
            "delivery_id": delivered.notification_id,
            "subscription_id": delivered.subscription_id,
            "event_id": event.id,
            "project_name": None,
            "payload": event.model_dump_json(exclude_none=True),
        }
        for event in carried
    ]
    return delivery, rows


async def record_deliveries_since(
    db: Database, bootstrap: str, *, notifications_from: Offsets, consumed_from: Offsets
) -> Recovered:
    """Reads the deliveries announced on sanpi.notifications from `notifications_from` and
    records each in the database as delivered: a pending one is marked, a missing one written
    with the events it carried (read from the consumed topics from `consumed_from`)."""
    announced: dict[str, tuple[NotificationDelivered, dt.datetime]] = {}
    for event in _events(
        await read_from(bootstrap, notifications_from), NotificationDelivered.TYPE
    ):
        data = NotificationDelivered.model_validate(event.data)
        announced[data.notification_id] = (data, event.time)
    if not announced:
        return Recovered(0, 0, 0, 0)
    async with db.read() as session:
        statuses = await repository.statuses_of(session, list(announced))
    missing = [announced[i] for i in announced if i not in statuses]
    found: dict[str, CloudEvent] = {}
    if missing:
        wanted = {event_id for data, _ in missing for event_id in data.event_ids}
        for event in _events(await read_from(bootstrap, consumed_from)):
            if event.id in wanted:
                found[event.id] = event
    to_mark = {
        i: announced[i][1] for i, status in statuses.items() if status != DeliveryStatus.DELIVERED
    }
    deliveries: list[dict[str, Any]] = []
    carried: list[dict[str, Any]] = []
    without_events = 0
    async with db.transaction() as uow:
        session = uow.session
        await repository.mark_delivered(session, to_mark)
        routed = await repository.routed_pairs(session, found)
        for data, at in missing:
            events = [found[i] for i in data.event_ids if i in found]
            if not events:
                without_events += 1
                continue
            delivery, rows = _recorded_rows(data, at, events)
            deliveries.append(delivery)
            carried += [r for r in rows if (r["subscription_id"], r["event_id"]) not in routed]
        await repository.insert_recovered(session, deliveries, carried)
    return Recovered(len(announced), len(to_mark), len(deliveries), without_events)


async def recover(settings: NotificationSettings, positions: KafkaPositions) -> Recovered:
    db = Database(settings.effective_database_url, event_source=settings.event_source)
    try:
        # A backup of an older release: its schema first, as the service would at start-up.
        await upgrade(db, MIGRATIONS)
        return await record_deliveries_since(
            db,
            settings.kafka_bootstrap,
            notifications_from={Topic.NOTIFICATIONS: positions.ends.get(Topic.NOTIFICATIONS, {})},
            consumed_from=positions.groups.get(settings.group_id, {}),
        )
    finally:
        await db.dispose()


def command(settings: NotificationSettings, argv: list[str]) -> None:
    """`python -m sanpi.notification recover-deliveries POSITIONS.json`"""
    parser = argparse.ArgumentParser(
        prog="python -m sanpi.notification recover-deliveries", description=__doc__
    )
    parser.add_argument("positions", type=Path, help="kafka.json of the backup")
    args = parser.parse_args(argv)
    positions = KafkaPositions.load(args.positions)
    if Topic.NOTIFICATIONS not in positions.ends:
        parser.error(f"{args.positions} holds no end offsets of {Topic.NOTIFICATIONS}")
    recovered = asyncio.run(recover(settings, positions))
    # The operator's answer (stdout), not a log record.
    sys.stdout.write(
        f"{recovered.delivered_since} notifications delivered since the backup: "
        f"{recovered.marked} marked delivered, {recovered.recorded} recorded"
        + (
            f", {recovered.without_events} not found on the topics (may be sent again)"
            if recovered.without_events
            else ""
        )
        + "\n"
    )
