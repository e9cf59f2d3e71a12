"""Every SQL statement about deliveries, the events they carry, and their attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    text,
    update,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Slot, UnitOfWork
from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.bulk import update_by_id
from sanpi.notification.delivery.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryStatus,
)
from sanpi.notification.subscriptions.models import Channel
from sanpi.notification.subscriptions.repository import (
    SubscriptionRow,
)
from sanpi.notification.subscriptions.repository import rows_by_id as subscription_rows

# The hot paths (fan-out, claim, outcome) use Core on the tables: the ORM's unit of work cost
# about four times as much CPU per row written (profiled, issue 8).
DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
DELIVERY_EVENT: Table = DeliveryEvent.__table__  # type: ignore[attr-defined]
DELIVERY_ATTEMPT: Table = DeliveryAttempt.__table__  # type: ignore[attr-defined]


class DueDelivery(NamedTuple):
    """A due delivery as the claim reads it."""

    id: str
    subscription_id: str
    channel: str
    target: str | None
    kind: str
    alert_key: str | None
    event_time: dt.datetime
    repeat: int
    escalation_level: int
    attempts: int
    order_key: str | None
    supervision_id: str | None
    contact_id: str | None


class SentDelivery(NamedTuple):
    """A claimed delivery as the recording of its attempt reads it."""

    id: str
    subscription_id: str
    status: str
    attempts_before_replay: int
    event_time: dt.datetime
    next_attempt_at: dt.datetime
    lease_token: str | None


class CarriedEvent(NamedTuple):
    delivery_id: str
    event_id: str
    project_name: str | None
    payload: str


# Built once: building it cost as much as running it (profiled, one query per event).
_ROUTED = select(DELIVERY_EVENT.c.subscription_id).where(
    DELIVERY_EVENT.c.event_id == bindparam("event_id"),
    DELIVERY_EVENT.c.subscription_id.in_(bindparam("subscription_ids", expanding=True)),
)


async def routed_among(uow: UnitOfWork, subscription_ids: Iterable[str], event_id: str) -> set[str]:
    """Those of the subscriptions that already carry the event: one query per event, plus the
    rows this transaction has queued (the hot path does not write them for this read)."""
    wanted = set(subscription_ids)
    params = {"event_id": event_id, "subscription_ids": list(wanted)}
    # No autoflush: nothing the ORM holds pending touches delivery_event, and flushing here
    # wrote the previous event's inbox row on its own, one INSERT per event.
    with uow.session.no_autoflush:
        found = set((await uow.session.exec(_ROUTED, params=params)).all())
    return found | queued_among(uow, wanted, event_id)


def queued_among(uow: UnitOfWork, subscription_ids: set[str], event_id: str) -> set[str]:
    """Those of the subscriptions this transaction has queued the event for (no SQL)."""
    pending = uow.peek(PENDING_ROWS)
    if pending is None:
        return set()
    return {
        row["subscription_id"]
        for row in pending.carried
        if row["event_id"] == event_id and row["subscription_id"] in subscription_ids
    }


@dataclass
class _Pending:
    deliveries: list[Mapping[str, Any]] = field(default_factory=list)
    carried: list[Mapping[str, Any]] = field(default_factory=list)
    # Events queued without asking the database whether they were routed already (`queue`'s
    # `unchecked`): asked for all of them at once when the rows are written.
    unchecked: set[str] = field(default_factory=set)


# New deliveries and the events they carry, written at commit: a consumer batch of 50 events
# then pays one executemany per table instead of two INSERTs per event. The reads of these
# tables that may follow in the consumer's transaction (routed_among, open_group,
# cancel_unsent_of_alert) first write them (`_settled`), as the ORM's autoflush would; the
# others run in transactions that queue none (the claim, the outcomes, the API's).
PENDING_ROWS: Slot[_Pending] = Slot("notification.pending_deliveries", _Pending)


def queue(
    uow: UnitOfWork,
    deliveries: Sequence[Mapping[str, Any]],
    carried: Sequence[Mapping[str, Any]],
    *,
    unchecked: str | None = None,
) -> None:
    """Inserts deliveries (each row names every column: executemany needs the same keys) and
    delivery events when the transaction commits, or before it next reads them.

    `unchecked` names an event whose rows were queued without `routed_among`: each of its
    carried rows belongs to the new delivery queued with it. When the rows are written, one
    query finds the (subscription, event) pairs the database holds already, and those rows
    and their deliveries are dropped: a consumer batch then checks its events in one
    statement instead of one per event."""
    pending = uow.peek(PENDING_ROWS)
    if pending is None:
        pending = uow.put(PENDING_ROWS, _Pending())
        uow.at_commit(PENDING_ROWS.name, _settled)
    pending.deliveries.extend(deliveries)
    pending.carried.extend(carried)
    if unchecked is not None:
        pending.unchecked.add(unchecked)


_ROUTED_EVENTS = select(DELIVERY_EVENT.c.subscription_id, DELIVERY_EVENT.c.event_id).where(
    DELIVERY_EVENT.c.event_id.in_(bindparam("event_ids", expanding=True))
)


async def _drop_routed(session: AsyncSession, pending: _Pending) -> None:
    with session.no_autoflush:
        rows = await session.exec(_ROUTED_EVENTS, params={"event_ids": list(pending.unchecked)})
        routed = {(subscription_id, event_id) for subscription_id, event_id in rows}
    if not routed:
        return
    dropped = {
        row["delivery_id"]
        for row in pending.carried
        if row["event_id"] in pending.unchecked
        and (row["subscription_id"], row["event_id"]) in routed
    }
    pending.carried = [r for r in pending.carried if r["delivery_id"] not in dropped]
    pending.deliveries = [d for d in pending.deliveries if d["id"] not in dropped]


async def _settled(uow: UnitOfWork) -> None:
    pending = uow.take(PENDING_ROWS)
    if pending is None:
        return
    session = uow.session
    if pending.unchecked:
        await _drop_routed(session, pending)
    if pending.deliveries:
        positions = await _positions(session, len(pending.deliveries))
        rows = [{**d, "position": p} for d, p in zip(pending.deliveries, positions, strict=True)]
        await session.exec(insert(DELIVERY), params=rows)
    if pending.carried:
        await session.exec(insert(DELIVERY_EVENT), params=pending.carried)


_NEXT_POSITIONS = text(
    "SELECT nextval('delivery_position') FROM generate_series(1, :count)"
).bindparams(bindparam("count", type_=Integer))
# SQLite: the table's rowid grows with every row written and its maximum is read from the end
# of the table's b-tree, whatever the table's size (max(position) would read every row).
_LAST_POSITION = text("SELECT coalesce(max(rowid), 0) FROM delivery")


async def _positions(session: AsyncSession, count: int) -> list[int]:
    """`count` queue positions, increasing, above every position given before (in the order the
    rows are written: a consumer writes a partition's events in their order)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        found = await connection.execute(_NEXT_POSITIONS, {"count": count})
        return sorted(found.scalars())
    # SQLite: one writer at a time, so no delivery written before can hold a position above the
    # highest rowid so far.
    last = int((await connection.execute(_LAST_POSITION)).scalar_one())
    return list(range(last + 1, last + 1 + count))


async def insert_attempts(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.exec(insert(DELIVERY_ATTEMPT), params=rows)


async def set_fields(session: AsyncSession, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Updates several deliveries by id."""
    await update_by_id(session, DELIVERY, changes)


def add(session: AsyncSession, row: Delivery | DeliveryEvent | DeliveryAttempt) -> None:
    session.add(row)


async def get(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def open_group(uow: UnitOfWork, subscription_id: str, group_key: str) -> Delivery | None:
    """The group delivery still collecting events (not yet attempted), locked so that a worker
    cannot claim it while an event joins it (PostgreSQL; SQLite serialises writers anyway)."""
    await _settled(uow)
    stmt = (
        select(Delivery)
        .where(
            Delivery.subscription_id == subscription_id,
            Delivery.group_key == group_key,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.attempts == 0,
        )
        .with_for_update()
    )
    return (await uow.session.exec(stmt)).first()


async def _owners(
    session: AsyncSession, deliveries: Iterable[DueDelivery | SentDelivery]
) -> dict[str, SubscriptionRow]:
    """The subscriptions of these deliveries that exist, by id: read apart, once each. Joined to
    every delivery row, each of a batch's 100 rows parsed its subscription's eight JSON columns
    again (6.6 of the worker's 20 CPU-s in claims and outcomes, e2e-batch profiled)."""
    return await subscription_rows(session, sorted({d.subscription_id for d in deliveries}))


# A pending delivery queued before this one for the same subscription and order key: while
# there is one, this one waits (its key's queue leaves one at a time, in position order). A
# delivery in flight is still PENDING (under its lease), so the one after it waits for the
# outcome, in this worker or another replica's.
_BEFORE = DELIVERY.alias("before")
_WAITS_FOR_EARLIER = exists().where(
    _BEFORE.c.status == DeliveryStatus.PENDING,
    _BEFORE.c.subscription_id == DELIVERY.c.subscription_id,
    and_(_BEFORE.c.order_key == DELIVERY.c.order_key, _BEFORE.c.position < DELIVERY.c.position),
)


async def due(
    session: AsyncSession, *, now: dt.datetime, real_now: dt.datetime, limit: int
) -> tuple[list[DueDelivery], dict[str, SubscriptionRow]]:
    """Pending deliveries whose next attempt is due at `now` and whose lease and rate-limit
    deferral, if any, ended by `real_now` (real time), that wait for no earlier one of their order key, oldest first, locked
    against other workers on PostgreSQL (SKIP LOCKED; the subscriptions are read, not locked);
    SQLite's BEGIN IMMEDIATE already serialises the claim. With the subscriptions they belong
    to, by id."""
    pending = DELIVERY.c.status == DeliveryStatus.PENDING
    if session.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite takes the status index and sorts every pending row by due
        # time; told that the term is mostly true, it walks ix_delivery_pending_due in order
        # and stops at `limit` (40 → 0.1 ms a claim at 10,000 pending). PostgreSQL has its
        # statistics.
        pending = func.likely(pending)
    stmt = (
        select(*(DELIVERY.c[name] for name in DueDelivery._fields))
        .where(
            pending,
            DELIVERY.c.next_attempt_at <= now,
            or_(DELIVERY.c.leased_until.is_(None), DELIVERY.c.leased_until <= real_now),
            or_(DELIVERY.c.deferred_until.is_(None), DELIVERY.c.deferred_until <= real_now),
            ~_WAITS_FOR_EARLIER,
        )
        .order_by(DELIVERY.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=DELIVERY)
    )
    due = [DueDelivery(*row) for row in await session.exec(stmt)]
    return due, await _owners(session, due)


async def sent(
    session: AsyncSession, delivery_ids: Iterable[str]
) -> tuple[dict[str, SentDelivery], dict[str, SubscriptionRow]]:
    """Claimed deliveries by id, locked until the outcomes are written (PostgreSQL: a claim that
    re-takes one meanwhile skips it, and one that committed first is seen with its token; on
    SQLite the writer's lock does it), with the subscriptions they belong to, by id."""
    stmt = (
        select(*(DELIVERY.c[name] for name in SentDelivery._fields))
        .where(DELIVERY.c.id.in_(set(delivery_ids)))
        # In id order: two outcomes of overlapping batches (a re-claim) lock alike, no deadlock.
        .order_by(DELIVERY.c.id)
        .with_for_update(of=DELIVERY)
    )
    found = {row[0]: SentDelivery(*row) for row in await session.exec(stmt)}
    return found, await _owners(session, found.values())


async def events_of(
    session: AsyncSession, delivery_ids: Iterable[str]
) -> dict[str, list[CarriedEvent]]:
    """The events each delivery carries, in the order they joined it: one query for a batch."""
    stmt = (
        select(*(DELIVERY_EVENT.c[name] for name in CarriedEvent._fields))
        .where(DELIVERY_EVENT.c.delivery_id.in_(set(delivery_ids)))
        .order_by(DELIVERY_EVENT.c.id)
    )
    found: dict[str, list[CarriedEvent]] = {}
    for row in await session.exec(stmt):
        found.setdefault(row.delivery_id, []).append(CarriedEvent(*row))
    return found


async def event_ids_of(session: AsyncSession, delivery_ids: list[str]) -> dict[str, list[str]]:
    stmt = (
        select(DeliveryEvent.delivery_id, DeliveryEvent.event_id)
        .where(col(DeliveryEvent.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryEvent.id))
    )
    found: dict[str, list[str]] = {}
    for delivery_id, event_id in (await session.exec(stmt)).all():
        found.setdefault(delivery_id, []).append(event_id)
    return found


async def cancel_unsent_of_alert(uow: UnitOfWork, alert_key: str, reason: str) -> None:
    """Cancels the notifications about one alert that have not been attempted yet."""
    await _settled(uow)
    await uow.session.exec(
        update(Delivery)
        .where(
            col(Delivery.alert_key) == alert_key,
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.attempts) == 0,
        )
        .values(status=DeliveryStatus.CANCELLED, last_error=reason)
    )


async def list_page(
    session: AsyncSession,
    *,
    subscription_ids: list[str] | None,
    status: DeliveryStatus | None,
    limit: int,
    after: CreatedKey | None,
) -> list[Delivery]:
    stmt = select(Delivery)
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    stmt = stmt.where(after_created(col(Delivery.created_at), col(Delivery.id), after))
    stmt = stmt.order_by(col(Delivery.created_at), col(Delivery.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def dead_letters(
    session: AsyncSession, *, subscription_ids: list[str] | None, delivery_ids: list[str] | None
) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
    if subscription_ids is not None:
        stmt = stmt.where(col(Delivery.subscription_id).in_(subscription_ids))
    if delivery_ids is not None:
        stmt = stmt.where(col(Delivery.id).in_(delivery_ids))
    return list((await session.exec(stmt.order_by(col(Delivery.created_at)))).all())


async def attempts_of(session: AsyncSession, delivery_ids: list[str]) -> list[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryAttempt.delivery_id), col(DeliveryAttempt.number))
    )
    return list((await session.exec(stmt)).all())


async def queue_figures(session: AsyncSession, *, real_now: dt.datetime) -> tuple[int, int, int]:
    """(pending, pending after at least one failed attempt, dead letters), for the gauges, with
    leases read at `real_now`. A claim counts its attempt before the send: one still under its
    lease has no outcome yet, so a first attempt in flight is no retry. One whose lease ran out
    unanswered (its sender died) is sent again as the next attempt and spends one of the
    delivery's attempts (_failed's `tries`): a failed attempt here too."""
    pending = select(func.count()).where(Delivery.status == DeliveryStatus.PENDING)
    in_flight = case((col(Delivery.leased_until) > real_now, 1), else_=0)
    failed = col(Delivery.attempts) - col(Delivery.attempts_before_replay) - in_flight
    retrying = pending.where(failed > 0)
    dead = select(func.count()).where(Delivery.status == DeliveryStatus.DEAD)
    return (
        (await session.exec(pending)).one(),
        (await session.exec(retrying)).one(),
        (await session.exec(dead)).one(),
    )


# --- after a restore of the database (delivery/recovery.py) ---------------------------------------


async def statuses_of(session: AsyncSession, delivery_ids: list[str]) -> dict[str, str]:
    """delivery id → status, of those of the ids the database holds."""
    if not delivery_ids:
        return {}
    rows = await session.exec(
        select(DELIVERY.c.id, DELIVERY.c.status).where(DELIVERY.c.id.in_(delivery_ids))
    )
    return {delivery_id: status for delivery_id, status in rows}


async def mark_delivered(session: AsyncSession, delivered_at: Mapping[str, dt.datetime]) -> None:
    """Records deliveries the database lost track of as delivered, at the time they were."""
    await update_by_id(
        session,
        DELIVERY,
        {
            delivery_id: {"status": DeliveryStatus.DELIVERED.value, "delivered_at": at}
            for delivery_id, at in delivered_at.items()
        },
    )


async def routed_pairs(session: AsyncSession, event_ids: Iterable[str]) -> set[tuple[str, str]]:
    """The (subscription, event) pairs the database holds among these events."""
    rows = await session.exec(_ROUTED_EVENTS, params={"event_ids": list(set(event_ids))})
    return {(subscription_id, event_id) for subscription_id, event_id in rows}


async def insert_recovered(
    session: AsyncSession,
    deliveries: Sequence[Mapping[str, Any]],
    carried: Sequence[Mapping[str, Any]],
) -> None:
    if deliveries:
        await session.exec(insert(DELIVERY), params=deliveries)
    if carried:
        await session.exec(insert(DELIVERY_EVENT), params=carried)


# --- retention -------------------------------------------------------------------------------

# What the pruner may delete: delivered or cancelled notifications, except inbox messages nobody
# acknowledged (a person has not read them yet); and dead letters, under their own retention.
FINISHED = and_(
    col(Delivery.status).in_([DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED]),
    not_(
        and_(
            col(Delivery.channel) == Channel.INBOX,
            col(Delivery.status) == DeliveryStatus.DELIVERED,
            col(Delivery.acknowledged_at).is_(None),
        )
    ),
)
DEAD = col(Delivery.status) == DeliveryStatus.DEAD


async def delete_queued_before(
    session: AsyncSession, which: Any, before: dt.datetime, limit: int
) -> int:
    """Deletes at most `limit` of the deliveries matching `which` queued before `before`, oldest
    first, with their events and attempts; returns how many deliveries."""
    chosen = (
        select(Delivery.id)
        .where(which, col(Delivery.created_at) < before)
        .order_by(col(Delivery.created_at))
        .limit(limit)
    )
    ids = list((await session.exec(chosen)).all())
    if ids:
        await session.exec(delete(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(ids)))
        await session.exec(delete(DeliveryEvent).where(col(DeliveryEvent.delivery_id).in_(ids)))
        await session.exec(delete(Delivery).where(col(Delivery.id).in_(ids)))
    return len(ids)


async def oldest_queued(session: AsyncSession, which: Any) -> dt.datetime | None:
    found: dt.datetime | None = (
        await session.exec(select(func.min(Delivery.created_at)).where(which))
    ).one()
    return found


async def carrying(
    session: AsyncSession, subscription_id: str, event_id: str
) -> DeliveryEvent | None:
    """The row that made `event_id` part of a notification to the subscription (at most one:
    the pair is unique), with the CloudEvent as it was carried. For reads (explain): a write's
    rows queued for commit are not among them."""
    stmt = select(DeliveryEvent).where(
        DeliveryEvent.subscription_id == subscription_id, DeliveryEvent.event_id == event_id
    )
    return (await session.exec(stmt)).first()


async def follow_ups(
    session: AsyncSession, subscription_id: str, alert_key: str, kinds: Sequence[str]
) -> list[Delivery]:
    """The reminders and escalations of one alert sent for a subscription, oldest first (for
    reads, as carrying)."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.subscription_id == subscription_id,
            Delivery.alert_key == alert_key,
            col(Delivery.kind).in_(list(kinds)),
        )
        .order_by(col(Delivery.created_at), col(Delivery.id))
    )
    return list((await session.exec(stmt)).all())
