"""The robots' send ledger in the notification database: a robot's limits (20 a minute; 飞书's 5 a
second too) held across every replica and delivery lane on the database, two UPDATEs a send."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, TextClause, bindparam, text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Database
from sanpi.kit.retention import Retained

log = logging.getLogger("sanpi.notification.delivery")

# Each limit of a robot ("at most `count` in any `window_s`") is a ring of `count` slots, each
# holding when it last carried a send (seconds since the epoch on the database's clock, the one
# clock every replica reads). A send takes, in one statement, the slot of each ring used longest
# ago, only if every one of them was used at least its window ago: a slot carries at most one send
# a window, so a ring lets through at most `count` in any window, sliding as the vendors count,
# with a full burst at once; and a send that one ring refuses takes no slot of another.
# Once the robot has answered, the send stamps its slots again (`sent`): the request reached the
# vendor between the take and the answer, so a slot stamped with the answer's time is next used
# a whole window after the vendor counted it, however long the request took to get there (a
# stall of more than the second's margin of `robot_window_s` between the take and the arrival
# made the robot refuse a message: the PostgreSQL pass of a loaded CI machine, once).


class RobotSendSlot(SQLModel, table=True):
    """One slot of one of a robot's rate limits (channels/robots.py)."""

    __tablename__ = "notification_robot_slot"

    robot: str = Field(primary_key=True, max_length=64)  # sha256 of the webhook URL
    ring: int = Field(primary_key=True)  # which of the robot's limits
    slot: int = Field(primary_key=True)
    used_at: float = 0.0


@dataclass(frozen=True)
class Limit:
    """At most `count` sends in any `window_s` seconds."""

    count: int
    window_s: float


@dataclass(frozen=True)
class Taken:
    """The send may go now, or not for `wait_s` seconds (a deferral, not a failure). An allowed
    send holds `slots` (ring, slot) from `at` (the database's clock, seconds since the epoch)."""

    allowed: bool
    wait_s: float = 0.0
    slots: tuple[tuple[int, int], ...] = ()
    at: float = 0.0


# Seconds since the epoch on the database's clock (one value for the whole statement).
_NOW = {
    "postgresql": "extract(epoch from statement_timestamp())::float8",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
# The slot of ring {i} used longest ago, if free. PostgreSQL: two replicas taking a slot of one
# robot at once lock different slots (SKIP LOCKED), and a slot another transaction changed since
# this statement's snapshot is read again and checked again as locked, so no slot is taken twice
# in its window. SQLite: every write transaction holds the database's one write lock.
_PICK = """(SELECT slot FROM notification_robot_slot
   WHERE robot = :robot AND ring = {i} AND slot < :count{i} AND used_at <= {now} - :window{i}
   ORDER BY used_at, slot LIMIT 1{lock}) AS s{i}"""
_TAKE = """WITH pick AS (SELECT {picks})
UPDATE notification_robot_slot SET used_at = {now} FROM pick
WHERE robot = :robot AND {all_picked} AND ({each})
RETURNING ring, slot, used_at"""
_RING = "(ring = {i} AND slot = pick.s{i} AND used_at <= {now} - :window{i})"
_SLOTS = "SELECT ring, slot, used_at, {now} FROM notification_robot_slot WHERE robot = :robot"
_ADD = """INSERT INTO notification_robot_slot (robot, ring, slot, used_at)
VALUES (:robot, :ring, :slot, 0) ON CONFLICT DO NOTHING"""
# Never earlier than it is: a slot a later send took meanwhile keeps that send's time.
_LATEST = {"postgresql": "GREATEST", "sqlite": "max"}
_SENT = """UPDATE notification_robot_slot SET used_at = {latest}(used_at, {now})
WHERE robot = :robot AND ring = :ring AND slot = :slot
RETURNING used_at"""

# A robot whose slots are all taken waits at least this long (its oldest slot may be held by a
# transaction not yet committed, whose time still reads as free).
MIN_WAIT_S = 0.1


class Ledger:
    """The robots' send slots in one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        dialect = "sqlite" if db.is_sqlite else "postgresql"
        self._now = _NOW[dialect]
        self._lock = "" if db.is_sqlite else " FOR UPDATE SKIP LOCKED"
        self._takes: dict[int, TextClause] = {}
        self._slots = text(_SLOTS.format(now=self._now))
        self._add = text(_ADD)
        self._sent = text(_SENT.format(latest=_LATEST[dialect], now=self._now))
        # Robots this process found full, and until when (monotonic): the deliveries queued
        # behind a full robot, all due again together, are deferred here without a transaction
        # each. Only ever a deferral, so the database stays the one that allows a send.
        self._full: dict[str, float] = {}

    def _take(self, rings: int) -> TextClause:
        statement = self._takes.get(rings)
        if statement is None:
            now, lock = self._now, self._lock
            statement = text(
                _TAKE.format(
                    picks=", ".join(_PICK.format(i=i, now=now, lock=lock) for i in range(rings)),
                    now=now,
                    all_picked=" AND ".join(f"pick.s{i} IS NOT NULL" for i in range(rings)),
                    each=" OR ".join(_RING.format(i=i, now=now) for i in range(rings)),
                )
            ).bindparams(
                bindparam("robot", type_=String),
                *(bindparam(f"count{i}", type_=Integer) for i in range(rings)),
                *(bindparam(f"window{i}", type_=Float) for i in range(rings)),
            )
            self._takes[rings] = statement
        return statement

    async def take(self, robot: str, limits: Sequence[Limit]) -> Taken:
        """A slot of every limit for one send to `robot`: one statement when they are free (the
        hot path), two or three when not; none while this process knows the robot is full."""
        now_s = time.monotonic()
        full_until = self._full.get(robot)
        if full_until is not None:
            if now_s < full_until:
                return Taken(False, full_until - now_s)
            del self._full[robot]
        taken = await self._take_slots(robot, limits)
        if not taken.allowed:
            self._full[robot] = now_s + taken.wait_s
        return taken

    async def _take_slots(self, robot: str, limits: Sequence[Limit]) -> Taken:
        params: dict[str, object] = {"robot": robot}
        for i, limit in enumerate(limits):
            params[f"count{i}"] = limit.count
            params[f"window{i}"] = limit.window_s
        take = self._take(len(limits))
        async with self.db.transaction() as uow:
            connection = await uow.session.connection()
            taken = _taken((await connection.execute(take, params)).all())
            if taken is not None:
                return taken
            rows = (await connection.execute(self._slots, {"robot": robot})).all()
            now = float(rows[0][3]) if rows else 0.0
            missing = []
            wait = 0.0
            for i, limit in enumerate(limits):
                used = {
                    slot: at for ring, slot, at, _now in rows if ring == i and slot < limit.count
                }
                missing += [(i, s) for s in range(limit.count) if s not in used]
                if len(used) == limit.count:
                    wait = max(wait, min(used.values()) + limit.window_s - now)
            if not missing and wait > 0:
                return Taken(False, max(MIN_WAIT_S, wait))  # a ring is full: each slot in use
            if missing:
                # The robot's first send (or a limit raised): its slots are made, free since 1970.
                await connection.execute(
                    self._add, [{"robot": robot, "ring": i, "slot": s} for i, s in missing]
                )
            # Every ring has a free slot by this read, or its slots were just made. PostgreSQL:
            # the take above may have read before another's first send committed its slots (it
            # saw none); read committed, this statement sees them. Taking the robot for full
            # here deferred the first sends of two lanes at once, twenty slots free.
            taken = _taken((await connection.execute(take, params)).all())
            if taken is not None:
                return taken
            # The free slots are held by sends not yet committed (SKIP LOCKED): nearly free.
            return Taken(False, max(MIN_WAIT_S, wait))

    async def sent(self, robot: str, taken: Taken) -> float | None:
        """Stamps the slots of a send the robot has answered (or that failed on its way) with the
        time now; returns it. A failure is logged, not raised: the message went, and its slots
        keep the take's time, short of the answer's by how long the request took."""
        if not taken.slots:
            return None
        try:
            async with self.db.transaction() as uow:
                connection = await uow.session.connection()
                at = None
                for ring, slot in taken.slots:
                    stamped = await connection.execute(
                        self._sent, {"robot": robot, "ring": ring, "slot": slot}
                    )
                    at = stamped.scalar_one_or_none()
                return None if at is None else float(at)
        except Exception as exc:
            log.warning("robot send slots not stamped after the send: %r", exc)
            return None


def _taken(rows: Sequence[Sequence[Any]]) -> Taken | None:
    """The send's slots (ring, slot, used_at), if the take found every ring free."""
    if not rows:
        return None
    slots = tuple((int(ring), int(slot)) for ring, slot, _at in rows)
    return Taken(True, slots=slots, at=float(rows[0][2]))


# A slot used at least its window ago is free, as one never made is (a send makes the missing
# slots of its robot, free since 1970): the pruner deletes it, so that a robot's ~25 rows do not
# stay for ever after its last send. `before` is the pruner's clock, `{now}` the database's, the
# one the slots are written on: a slot goes only when both say it is a window old, whatever the
# two clocks' skew. The outer conditions are checked again on PostgreSQL on a row a take changed
# meanwhile (read committed), so a slot just taken is not deleted (forgetting a send).
_PRUNE = """DELETE FROM notification_robot_slot
WHERE used_at < :before AND used_at <= {now} - :window
AND (robot, ring, slot) IN (SELECT robot, ring, slot FROM notification_robot_slot
  WHERE used_at < :before AND used_at <= {now} - :window ORDER BY used_at LIMIT :limit)"""
_OLDEST = text("SELECT min(used_at) FROM notification_robot_slot WHERE used_at > 0")


def retained(window_s: float) -> Retained:
    """The robots' send slots for the retention pruner (kit.retention): each is kept its window
    (`window_s`, the robots' minute, their longest limit)."""

    async def delete_before(session: AsyncSession, before: dt.datetime, limit: int) -> int:
        connection = await session.connection()
        now = _NOW["sqlite" if connection.dialect.name == "sqlite" else "postgresql"]
        statement = text(_PRUNE.format(now=now)).bindparams(
            bindparam("before", type_=Float),
            bindparam("window", type_=Float),
            bindparam("limit", type_=Integer),
        )
        params = {"before": before.timestamp(), "window": window_s, "limit": limit}
        return int((await connection.execute(statement, params)).rowcount)

    async def oldest(session: AsyncSession) -> dt.datetime | None:
        # Slots never used (made free since 1970) are left out: they would read as 56 years old.
        connection = await session.connection()
        found = (await connection.execute(_OLDEST)).scalar_one_or_none()
        return None if found is None else dt.datetime.fromtimestamp(float(found), dt.UTC)

    return Retained("robot_slots", window_s, delete_before, oldest)
