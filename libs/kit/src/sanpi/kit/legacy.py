"""Session-based forms of the unit of work's calls, for the milestone service until it is handed
the unit of work itself (issue 22): each finds the unit of work its session belongs to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, EventData
from sanpi.kit import prefetch
from sanpi.kit.unit_of_work import AfterCommit, UnitOfWork

V = TypeVar("V")


def enqueue(
    session: AsyncSession, data: EventData, *, dumped: dict[str, Any] | None = None
) -> CloudEvent:
    return UnitOfWork.of(session).publish(data, dumped=dumped)


def insert_at_commit(session: AsyncSession, statement: Insert, row: dict[str, Any]) -> None:
    UnitOfWork.of(session).insert_at_commit(statement, row)


async def insert_pending(session: AsyncSession, statement: Insert) -> None:
    uow = _of(session)
    if uow is not None:
        await uow.insert_pending(statement)


def at_commit(
    session: AsyncSession, name: str, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    async def run(uow: UnitOfWork) -> None:
        await work(uow.session)

    UnitOfWork.of(session).at_commit(name, run)


def after_commit(session: AsyncSession, name: str, work: AfterCommit) -> None:
    UnitOfWork.of(session).after_commit(name, work)


def catching_up(session: AsyncSession) -> bool:
    return UnitOfWork.of(session).catching_up


class Prefetched(prefetch.Prefetched[V]):
    """prefetch.Prefetched, asked with the session."""

    def keep(  # type: ignore[override]
        self,
        session: AsyncSession,
        keys: Sequence[str],
        rows: Iterable[V],
        key_of: Callable[[V], str],
    ) -> None:
        super().keep(UnitOfWork.of(session), keys, rows, key_of)

    def rows(self, session: AsyncSession, key: str) -> list[V] | None:  # type: ignore[override]
        uow = _of(session)
        return None if uow is None else super().rows(uow, key)

    def add(self, session: AsyncSession, key: str, row: V) -> None:  # type: ignore[override]
        uow = _of(session)
        if uow is not None:
            super().add(uow, key, row)

    def forget(self, session: AsyncSession, key: str) -> None:  # type: ignore[override]
        uow = _of(session)
        if uow is not None:
            super().forget(uow, key)


def _of(session: AsyncSession) -> UnitOfWork | None:
    # A read session (Database.read) has no unit of work, and so nothing prefetched.
    return UnitOfWork.find(session)
