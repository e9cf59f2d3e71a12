"""Which failures are the infrastructure's (a database away, a full disk, the broker), not a record's."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from enum import StrEnum

from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa_exc


class Transient(StrEnum):
    """Why a consumer waits instead of counting an attempt (the label of
    sanpi_consumer_transient_failures_total)."""

    DATABASE = "database"  # unreachable, shutting down, restarting, I/O error, read-only
    LOCKED = "locked"  # SQLite: another process held the write lock past the busy timeout
    DISK_FULL = "disk_full"
    BROKER = "broker"  # Kafka did not take a record (a dead letter)


# SQLite's primary result codes (sqlite3's sqlite_errorname, extended codes start with them).
_SQLITE_CODES: dict[str, Transient] = {
    "SQLITE_BUSY": Transient.LOCKED,
    "SQLITE_LOCKED": Transient.LOCKED,
    "SQLITE_FULL": Transient.DISK_FULL,
    "SQLITE_IOERR": Transient.DATABASE,
    "SQLITE_CANTOPEN": Transient.DATABASE,
    "SQLITE_READONLY": Transient.DATABASE,
    "SQLITE_PROTOCOL": Transient.DATABASE,
    "SQLITE_NOMEM": Transient.DATABASE,
    # A damaged file is no record's fault either: dead-lettering every record until someone
    # restores it would lose them all, waiting loses none.
    "SQLITE_CORRUPT": Transient.DATABASE,
    "SQLITE_NOTADB": Transient.DATABASE,
}
# The same by message, for an error that lost its code on the way.
_SQLITE_MESSAGES: dict[str, Transient] = {
    "database is locked": Transient.LOCKED,
    "database table is locked": Transient.LOCKED,
    "database or disk is full": Transient.DISK_FULL,
    "unable to open database file": Transient.DATABASE,
    "disk i/o error": Transient.DATABASE,
    "readonly database": Transient.DATABASE,
    "database disk image is malformed": Transient.DATABASE,
    "file is not a database": Transient.DATABASE,
}

# PostgreSQL SQLSTATEs (asyncpg's exceptions and SQLAlchemy's adaptation of them carry one).
_SQLSTATES: dict[str, Transient] = {
    "53100": Transient.DISK_FULL,  # disk_full
    "57P01": Transient.DATABASE,  # admin_shutdown (a fast or smart shutdown)
    "57P02": Transient.DATABASE,  # crash_shutdown
    "57P03": Transient.DATABASE,  # cannot_connect_now (starting up, recovering)
    "25006": Transient.DATABASE,  # read_only_sql_transaction: a standby during a failover
}
_SQLSTATE_CLASSES: dict[str, Transient] = {
    "08": Transient.DATABASE,  # connection exceptions
    "53": Transient.DATABASE,  # insufficient resources (memory, connections)
    "58": Transient.DATABASE,  # system errors (I/O)
}

_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_CONNECTION_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
    }
)


def transient_kind(exc: BaseException) -> Transient | None:
    """The kind of infrastructure failure `exc` is, or None when nothing in it says so (then it
    may be the record's, or an outage that looks like nothing known: ask the database).
    Looks through SQLAlchemy's wrapping (`orig`) and the exception's causes."""
    for link in _chain(exc):
        kind = _kind_of(link)
        if kind is not None:
            return kind
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 16:
        link = pending.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        for nxt in (getattr(link, "orig", None), link.__cause__, link.__context__):
            if isinstance(nxt, BaseException):
                pending.append(nxt)


def _kind_of(exc: BaseException) -> Transient | None:
    if isinstance(exc, KafkaError):
        return Transient.BROKER
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return Transient.DATABASE  # the dialect recognised a lost connection
    if isinstance(exc, sa_exc.TimeoutError):
        return Transient.DATABASE  # no pooled connection came free in time
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        for prefix, kind in _SQLITE_CODES.items():
            if name.startswith(prefix):
                return kind
        message = str(exc).lower()
        for text, kind in _SQLITE_MESSAGES.items():
            if text in message:
                return kind
        return None
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
    if isinstance(exc, OSError):
        if exc.errno in _DISK_FULL_ERRNOS:
            return Transient.DISK_FULL
        # A consumer's transaction makes no connection but the database's. Other OS errors (a
        # timeout, "Multiple exceptions" of a connect to several addresses, a file that cannot
        # be opened) say less: the caller's ping of the database decides.
        if isinstance(exc, ConnectionError) or exc.errno in _CONNECTION_ERRNOS:
            return Transient.DATABASE
    return None
