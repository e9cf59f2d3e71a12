"""The unit of work: one write transaction and everything that must happen with its commit.

`Database.transaction()` yields a UnitOfWork; every service function that writes and every
consumer handler receives it (reads take a plain session from `Database.read()`). It owns:

- `session`: the SQLAlchemy session, for the repositories' SQL;
- `publish(data)`: an event into the outbox, published by the relay once the commit stands;
- `insert_at_commit(statement, row)`: append-only rows written at commit in one executemany per
  table; `insert_pending(statement)` writes them earlier, before a read that must see them;
- `slot(SLOT)`: per-transaction values (caches, rows of its own) a module declares as a Slot;
- `at_commit(name, work)`: work that runs in the transaction just before it commits;
- `after_commit(name, work)`: work that runs once it has committed, outside its write lock;
- `wake(signal)`: a background loop's signal, set once it has committed;
- `catching_up`: set by the consumer on the transactions of a batch applied while it catches up.

Pending rows are written explicitly (insert_pending), not before every read: the reads that
need them are Core statements on the connection, which the session never sees, and writing
every table's pending rows before any read would split the one executemany per table and
transaction that made them worth deferring (a consumer batch of 50 events shares one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, EventData, build_event
from sanpi.kit import tracing
from sanpi.kit.deferred import insert_rows
from sanpi.kit.outbox import INSERT_OUTBOX, OUTBOX_PENDING, outbox_row
from sanpi.kit.slots import CommitSignal, Slot

if TYPE_CHECKING:
    from sanpi.kit.db import Database

T = TypeVar("T")

_UNIT_OF_WORK = "sanpi.unit_of_work"

AtCommit = Callable[["UnitOfWork"], Awaitable[None]]
AfterCommit = Callable[["Database"], Awaitable[None]]


class UnitOfWork:
    """One write transaction: see the module's docstring. Made by `Database.transaction()`."""

    __slots__ = (
        "_after",
        "_at_commit",
        "_pending",
        "_signals",
        "_slots",
        "catching_up",
        "event_source",
        "session",
    )

    def __init__(self, session: AsyncSession, *, event_source: str) -> None:
        self.session = session
        self.event_source = event_source
        self.catching_up = False
        self._slots: dict[Slot[Any], Any] = {}
        # Rows to INSERT at commit, by table: the statement that writes them and the rows.
        self._pending: dict[Any, tuple[Insert, list[dict[str, Any]]]] = {}
        self._at_commit: dict[str, AtCommit] = {}
        self._after: dict[str, AfterCommit] = {}
        self._signals: set[CommitSignal] = set()
        # Only so that `session_of` can refuse a write session passed where its unit of work
        # belongs (see Reading); nothing else looks a unit of work up from its session.
        session.info[_UNIT_OF_WORK] = self

    # --- events ------------------------------------------------------------------------------------

    def publish(self, data: EventData, *, dumped: dict[str, Any] | None = None) -> CloudEvent:
        """Adds an event to the transaction: written to the outbox with the commit, published
        by the relay after it, never if the transaction rolls back. `dumped`:
        data.model_dump(mode="json") if the caller has it already (see envelope_data)."""
        # Traced, the event carries its trace (extension and header, kept with the row): the
        # relay and every consumer continue it.
        traceparent = tracing.current_traceparent() if tracing.ENABLED else None
        event = build_event(data, source=self.event_source, dumped=dumped, traceparent=traceparent)
        self.insert_at_commit(INSERT_OUTBOX, outbox_row(event, data))
        self._signals.add(OUTBOX_PENDING)
        return event

    # --- rows written at commit --------------------------------------------------------------------

    def insert_at_commit(self, statement: Insert, row: dict[str, Any]) -> None:
        """Adds `row` (every column the statement's rows give, always the same keys) to the rows
        `statement` inserts when the transaction commits. For append-only rows nothing reads
        back in the transaction (outbox, timeline, the consumer's processed events): an ORM
        object per row cost ~0.15 CPU-ms more than its share of one prebuilt executemany. Rows
        a later read of the transaction must see are written first by `insert_pending`."""
        table = statement.table
        pending = self._pending.get(table)
        if pending is None:
            pending = self._pending[table] = (statement, [])

            async def insert(uow: UnitOfWork) -> None:
                await uow.insert_pending(statement)

            # Work that runs at commit may add rows again (alerts raised by the evaluation): the
            # list is gone by then, so they get a list and an insert of their own, after it.
            self.at_commit(f"insert into {getattr(table, 'fullname', table)}", insert)
        pending[1].append(row)

    async def insert_pending(self, statement: Insert) -> None:
        """Inserts now the rows queued for `statement`'s table in this transaction, if any: what
        a repository calls before it reads the table, as the ORM's autoflush does for its
        objects."""
        pending = self._pending.pop(statement.table, None)
        if pending is not None and pending[1]:
            await insert_rows(self.session, statement, pending[1])

    # --- per-transaction values --------------------------------------------------------------------

    def slot(self, slot: Slot[T]) -> T:
        """The slot's value in this transaction, made by its factory on first use."""
        try:
            value: T = self._slots[slot]
        except KeyError:
            value = self._slots[slot] = slot.factory()
        return value

    def peek(self, slot: Slot[T]) -> T | None:
        """The slot's value, or None if this transaction has not made one."""
        value: T | None = self._slots.get(slot)
        return value

    def put(self, slot: Slot[T], value: T) -> T:
        """Sets the slot's value for the rest of the transaction; returns it."""
        self._slots[slot] = value
        return value

    def take(self, slot: Slot[T]) -> T | None:
        """Removes the slot's value and returns it (None if there was none)."""
        value: T | None = self._slots.pop(slot, None)
        return value

    # --- work with the commit ----------------------------------------------------------------------

    def at_commit(self, name: str, work: AtCommit) -> None:
        """Runs `work` in this transaction just before it commits, once however often it is
        asked for under one `name` (the last one asked for runs; work asked for while the
        at-commit work runs runs too). Lets the records of a consumer batch share what each of
        them asks for, such as evaluating the rules of the projects they touched."""
        self._at_commit[name] = work

    def after_commit(self, name: str, work: AfterCommit) -> None:
        """Runs `work` once this transaction has committed, once however often it is asked for
        under one `name` (the last one asked for runs), and never if it rolls back. It runs
        after the SQLite write lock is released, with the Database, so it may open transactions
        of its own (work a commit asks for that need not hold its lock, such as evaluating the
        rules for many requests together). `Database.transaction()` returns only after it ran;
        its failure is logged, not raised: the transaction has committed."""
        self._after[name] = work

    def wake(self, signal: CommitSignal) -> None:
        """Sets `signal` (Database.commit_signal) once this transaction has committed."""
        self._signals.add(signal)

    # --- run by Database.transaction ---------------------------------------------------------------

    async def run_at_commit(self) -> None:
        pending = self._at_commit
        while pending:  # work may ask for more work
            await pending.pop(next(iter(pending)))(self)

    @property
    def after_commit_work(self) -> dict[str, AfterCommit]:
        return self._after

    @property
    def signals(self) -> set[CommitSignal]:
        return self._signals


# --- reads ----------------------------------------------------------------------------------------

Reading = AsyncSession | UnitOfWork
"""What a repository read that also serves writes takes: a read session (`Database.read()`),
or the unit of work of a write, whose rows queued for commit and prefetched rows the read must
see. A write's bare session would see neither: `session_of` refuses it."""


def session_of(tx: Reading) -> AsyncSession:
    """The session a read runs its SQL on."""
    if isinstance(tx, UnitOfWork):
        return tx.session
    if _UNIT_OF_WORK in tx.info:
        raise TypeError(
            "a write's session was passed to a read that must see its unit of work's pending "
            "rows: pass the unit of work"
        )
    return tx


def unit_of(tx: Reading) -> UnitOfWork | None:
    """The unit of work of a write; None for a read session, which has no pending rows."""
    if isinstance(tx, UnitOfWork):
        return tx
    session_of(tx)  # refuses a write's bare session
    return None


async def insert_pending(tx: Reading, statement: Insert) -> None:
    """`UnitOfWork.insert_pending` for a read that serves both: nothing to write in a read."""
    if isinstance(tx, UnitOfWork):
        await tx.insert_pending(statement)
    else:
        session_of(tx)
