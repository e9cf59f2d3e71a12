"""Rebuilding a projection from its topics: a bulk replay into shadow tables, then one swap.

The consumer loop (sanpi.kit.consumer) applies one event at a time with its inbox row, its
notifications and its evaluation; a rebuild needs none of that. It reads each topic from its
first record up to the end it had when the rebuild began, decodes thousands of records at a
time and hands them to the service's projections (`Projection`), which fold them into shadow
tables (`rebuild__<table>`) of the service's own database with set-based writes. Only when the
whole replay has succeeded does one transaction copy the shadows over the live rows; then the
service's consumer group is set to resume where the replay ended. The service must be stopped
(every replica): a group with members is refused, before the replay and again before the swap.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CoordinatorLoadInProgressError, GroupCoordinatorNotAvailableError
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Enum,
    MetaData,
    String,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import DropTable
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import EventAttributes, EventData, EventDecodeError, decode_typed, header_type
from sanpi.kit.db import Database
from sanpi.kit.offsets import (
    Offsets,
    by_topic,
    committed,
    group_members,
    partitions,
    set_committed,
    topic_ends,
)

SHADOW_PREFIX = "rebuild__"
# Records decoded and applied at a time: large enough that a set-based write amortises its
# round trip, small enough that a batch's decoded events stay a few MiB.
BATCH_RECORDS = 5_000
# A write of many rows is cut in statements of this many (SQLite's bound-parameter limit).
WRITE_CHUNK = 500

# An event's attributes and its typed data (sanpi.events.decode_typed).
Replayed = tuple[EventAttributes, EventData]


class Projection(Protocol):
    """One rebuildable projection of a service: what it reads, how it folds, how it swaps in."""

    name: str
    # Chinese first: what it is, for --help, the docs and the progress lines.
    summary: str
    # The topics it is built from (sanpi.events.Topic values; a test may map them to its own).
    topics: tuple[str, ...]
    # The live tables (or table.columns) it replaces, for the operator to read.
    replaces: str

    async def prepare(self, db: Database) -> None:
        """Creates its empty shadow tables (dropping any a failed rebuild left)."""

    async def apply(self, db: Database, batch: Sequence[Replayed]) -> None:
        """Folds a batch of decoded events of its topics, in topic-partition order."""

    async def finish(self, db: Database) -> None:
        """Writes what it still holds in memory to its shadow tables."""

    async def swap(self, session: AsyncSession) -> int:
        """Copies its shadows over the live rows and drops them, inside the swap transaction;
        returns how many rows the projection has now."""

    async def discard(self, db: Database) -> None:
        """Drops its shadow tables (a failed or interrupted rebuild)."""


class Shadowed:
    """The common part of a projection with one shadow table: `prepare` creates it empty,
    `finish` has nothing left to write, `discard` drops it."""

    shadow: Table

    async def prepare(self, db: Database) -> None:
        await recreate(db, [self.shadow])

    async def finish(self, db: Database) -> None:
        return None

    async def discard(self, db: Database) -> None:
        await drop(db, [self.shadow])


class ServiceRunning(RuntimeError):
    """The service's consumer group has members: a rebuild would race the live consumer."""

    def __init__(self, group: str, members: int) -> None:
        super().__init__(
            f"服务仍在运行: 消费组 {group} 有 {members} 个成员, 请先停止全部副本 "
            f"(the consumer group {group} has {members} member(s): stop every replica first)"
        )
        self.group = group
        self.members = members


@dataclass
class Progress:
    """Where a rebuild stands: records read per topic against the ends it replays up to."""

    ends: dict[str, int]
    read: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)
    cpu_started: float = field(default_factory=time.process_time)

    @property
    def total(self) -> int:
        return sum(self.read.values())

    @property
    def elapsed_s(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    @property
    def cpu_s(self) -> float:
        return time.process_time() - self.cpu_started

    def line(self) -> str:
        topics = ", ".join(
            f"{topic} {self.read.get(topic, 0):,}/{end:,}"
            f" ({100 * self.read.get(topic, 0) / end if end else 100:.0f}%)"
            for topic, end in sorted(self.ends.items())
        )
        return f"已重放 {self.total:,} 条 (replayed), {self.total / self.elapsed_s:,.0f} 条/s: {topics}"


@dataclass
class Rebuilt:
    """What a rebuild did: rows per projection, events read, where the group resumes."""

    rows: dict[str, int]
    progress: Progress
    resumes_at: Offsets


def shadow_of(table: Table, metadata: MetaData | None = None) -> Table:
    """The shadow of a live table: same columns and primary key, no index nor other constraint
    (their names are global in both databases, and a bulk load is faster without them). An
    enumeration is plain text there: PostgreSQL's ENUM types belong to the live tables (a
    shadow creating or dropping one would clash with them); the swap casts it back."""
    return Table(
        SHADOW_PREFIX + table.name,
        metadata or MetaData(),
        *(Column(c.name, _plain(c.type), primary_key=c.primary_key) for c in table.columns),
    )


def _plain(type_: Any) -> Any:
    return String(type_.length) if isinstance(type_, Enum) else type_


def _as_live(shadow: Table, live: Table, name: str) -> Any:
    """The shadow's column as the live column's type (an enumeration cast back)."""
    column = shadow.c[name]
    return cast(column, live.c[name].type) if isinstance(live.c[name].type, Enum) else column


async def recreate(db: Database, tables: Iterable[Table]) -> None:
    """Drops and creates the shadow tables, empty."""
    async with db.engine.begin() as conn:
        for table in tables:
            await conn.run_sync(_drop, table)
            await conn.run_sync(_create, table)


async def drop(db: Database, tables: Iterable[Table]) -> None:
    async with db.engine.begin() as conn:
        for table in tables:
            await conn.run_sync(_drop, table)


def _drop(conn: Connection, table: Table) -> None:
    table.drop(conn, checkfirst=True)


def _create(conn: Connection, table: Table) -> None:
    table.create(conn)


async def insert_rows(db: Database, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts rows into a shadow table."""
    if not rows:
        return
    async with db.engine.begin() as conn:
        # executemany of one compiled statement (a multi-row VALUES is compiled anew each time).
        await conn.execute(insert(table), list(rows))


async def upsert_rows(
    db: Database, table: Table, rows: Sequence[Mapping[str, Any]], *, replace: Sequence[str]
) -> None:
    """Inserts rows into a shadow table, a row whose primary key is there replacing the columns
    `replace` (INSERT … ON CONFLICT DO UPDATE, in both databases)."""
    if not rows:
        return
    dialect = postgresql if not db.is_sqlite else sqlite
    keys = [c.name for c in table.primary_key.columns]
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in replace}
    )
    async with db.engine.begin() as conn:
        await conn.execute(stmt, list(rows))


async def copy_back(session: AsyncSession, shadow: Table, live: Table) -> int:
    """Replaces every live row by the shadow's (the live table keeps its indexes, constraints
    and migrations' history), drops the shadow; returns the row count."""
    conn = await session.connection()
    names = [c.name for c in shadow.columns]
    await conn.execute(delete(live))
    await conn.execute(
        insert(live).from_select(names, select(*(_as_live(shadow, live, n) for n in names)))
    )
    count = (await conn.execute(select(func.count()).select_from(live))).scalar_one()
    await conn.execute(DropTable(shadow))
    return int(count)


def differing(
    shadow: Table, live: Table, *, key: tuple[str, str], postgres: bool
) -> ColumnElement[bool]:
    """Joins a shadow row to its live row (shadow column key[0] = live column key[1]) where they
    differ in any other column the shadow has (IS DISTINCT FROM: NULL equals NULL). A JSON
    column compares as jsonb on PostgreSQL (json has no equality) and as its text on SQLite."""
    own, theirs = key
    return and_(
        live.c[theirs] == shadow.c[own],
        or_(
            *(
                _comparable(live.c[c.name], postgres).is_distinct_from(
                    _comparable(_as_live(shadow, live, c.name), postgres)
                )
                for c in shadow.columns
                if c.name != own
            )
        ),
    )


def _comparable(column: Any, postgres: bool) -> Any:
    return cast(column, JSONB) if postgres and isinstance(column.type, JSON) else column


async def update_from(
    session: AsyncSession, shadow: Table, live: Table, *, key: tuple[str, str]
) -> int:
    """Sets the live table's columns that the shadow has from the shadow row of the same key
    (shadow column key[0] = live column key[1]), drops the shadow; returns how many live rows
    the shadow has. For a projection kept in columns of a table the service otherwise owns.
    Only the rows that differ are written (`differing`): a rebuild that finds the projection
    right, the usual case, rewrites nothing."""
    conn = await session.connection()
    own, theirs = key
    count = (
        await conn.execute(
            select(func.count())
            .select_from(shadow)
            .where(exists().where(live.c[theirs] == shadow.c[own]))
        )
    ).scalar_one()
    columns = [c.name for c in shadow.columns if c.name != own]
    postgres = conn.dialect.name == "postgresql"
    await conn.execute(
        update(live)
        .where(differing(shadow, live, key=key, postgres=postgres))
        .values({name: _as_live(shadow, live, name) for name in columns})
    )
    await conn.execute(DropTable(shadow))
    return int(count)


def decode(value: bytes | None, headers: Sequence[tuple[str, bytes]] = ()) -> Replayed | None:
    """A record's event and data, or None for one the consumer would dead-letter. Its headers
    name its type, so that the data is decoded in one pass with its envelope."""
    try:
        return decode_typed(value, header_type(headers))
    except EventDecodeError:
        return None


async def _replay(
    bootstrap: str,
    ends: Mapping[TopicPartition, int],
    deliver: Callable[[str, list[Replayed]], Any],
    progress: Progress,
    report: Callable[[Progress], None],
    every_s: float,
) -> None:
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"sanpi-rebuild-{uuid.uuid4().hex[:6]}",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await reader.start()
    try:
        todo = {tp for tp, end in ends.items() if end > 0}
        reader.assign(sorted(todo))
        await reader.seek_to_beginning(*todo)
        last = time.monotonic()
        while todo:
            fetched = await reader.getmany(*todo, timeout_ms=1000, max_records=BATCH_RECORDS)
            for tp, records in sorted(fetched.items()):
                wanted = [r for r in records if r.offset < ends[tp]]
                decoded = [d for r in wanted if (d := decode(r.value, r.headers)) is not None]
                progress.read[tp.topic] = progress.read.get(tp.topic, 0) + len(wanted)
                progress.skipped += len(wanted) - len(decoded)
                if decoded:
                    await deliver(tp.topic, decoded)
            for tp in list(todo):
                if await reader.position(tp) >= ends[tp]:
                    todo.discard(tp)
            if time.monotonic() - last >= every_s:
                report(progress)
                last = time.monotonic()
    finally:
        await reader.stop()


async def _ends(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    found = await topic_ends(bootstrap, topics)
    return {
        TopicPartition(topic, partition): end
        for topic, by_partition in found.items()
        for partition, end in by_partition.items()
    }


T = TypeVar("T")
# A broker just started has no group coordinator until its offsets topic is ready (seconds).
COORDINATOR_WAIT_S = 60.0


async def _with_coordinator(ask: Callable[[], Awaitable[T]]) -> T:
    deadline = time.monotonic() + COORDINATOR_WAIT_S
    while True:
        try:
            return await ask()
        except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def refuse_if_running(bootstrap: str, group: str) -> None:
    members = await _with_coordinator(lambda: group_members(bootstrap, group))
    if members:
        raise ServiceRunning(group, members)


async def rebuild(
    db: Database,
    projections: Sequence[Projection],
    *,
    bootstrap: str,
    group: str,
    topics: Mapping[str, str] | None = None,
    report: Callable[[Progress], None] = lambda _p: None,
    report_every_s: float = 2.0,
) -> Rebuilt:
    """Replays the projections' topics into their shadows and swaps them in (see the module's
    docstring). `topics` maps a projection's topic to the one actually read (tests); the group
    is the service's, whose offsets on those topics are set so that it resumes where the replay
    ended (or earlier, where it had not got that far: what it had not applied, it applies)."""
    actual = dict(topics or {})
    await refuse_if_running(bootstrap, group)
    readers: dict[str, list[Projection]] = {}
    for projection in projections:
        for topic in projection.topics:
            readers.setdefault(actual.get(topic, topic), []).append(projection)
    ends = await _ends(bootstrap, readers)
    totals = {t: sum(by_partition.values()) for t, by_partition in by_topic(ends).items()}
    progress = Progress(ends={topic: totals.get(topic, 0) for topic in readers})

    async def deliver(topic: str, batch: list[Replayed]) -> None:
        for projection in readers[topic]:
            await projection.apply(db, batch)

    try:
        for projection in projections:
            await projection.prepare(db)
        await _replay(bootstrap, ends, deliver, progress, report, report_every_s)
        for projection in projections:
            await projection.finish(db)
        await refuse_if_running(bootstrap, group)
        rows: dict[str, int] = {}
        async with db.transaction() as uow:
            for projection in projections:
                rows[projection.name] = await projection.swap(uow.session)
    except BaseException:
        for projection in projections:
            await projection.discard(db)
        raise
    report(progress)
    resumes_at = await _resume(bootstrap, group, ends)
    return Rebuilt(rows=rows, progress=progress, resumes_at=resumes_at)


async def _resume(bootstrap: str, group: str, ends: Mapping[TopicPartition, int]) -> Offsets:
    """Commits, for each partition replayed, the end of the replay, or the group's own offset
    where that is earlier (the events after it were not applied by the service's other handlers
    yet; its projection handlers apply them again unchanged, being idempotent by content)."""
    held = partitions(await _with_coordinator(lambda: committed(bootstrap, group)))
    target = {tp: min(end, held.get(tp, end)) for tp, end in ends.items()}
    offsets = by_topic(target)
    await _with_coordinator(lambda: set_committed(bootstrap, group, offsets))
    return offsets
