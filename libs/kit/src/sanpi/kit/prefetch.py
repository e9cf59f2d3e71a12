"""Rows a consumer batch loaded up front, kept by key for the rest of its transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar, cast

from sqlmodel.ext.asyncio.session import AsyncSession

V = TypeVar("V")


class Prefetched(Generic[V]):
    """A repository's memory of one batch (Handlers.before_batch): `keep` what one query found
    for the batch's keys, then `rows` answers a key without SQL (None: the key was not
    prefetched, so ask the database), `add` keeps a row the batch creates as an object, and
    `forget` drops a key whose rows the batch wrote without one (the database answers it
    then). The memory lives in `session.info`, so it ends with the transaction."""

    def __init__(self, name: str) -> None:
        self._key = f"sanpi.prefetched.{name}"

    def _kept(self, session: AsyncSession) -> dict[str, list[V]] | None:
        return cast(dict[str, list[V]] | None, session.info.get(self._key))

    def keep(
        self,
        session: AsyncSession,
        keys: Sequence[str],
        rows: Iterable[V],
        key_of: Callable[[V], str],
    ) -> None:
        kept: dict[str, list[V]] = {key: [] for key in keys}
        for row in rows:
            kept[key_of(row)].append(row)
        session.info[self._key] = kept

    def rows(self, session: AsyncSession, key: str) -> list[V] | None:
        kept = self._kept(session)
        if kept is None or key not in kept:
            return None
        return list(kept[key])

    def add(self, session: AsyncSession, key: str, row: V) -> None:
        kept = self._kept(session)
        rows = kept.get(key) if kept is not None else None
        if rows is not None and all(known is not row for known in rows):
            rows.append(row)

    def forget(self, session: AsyncSession, key: str) -> None:
        kept = self._kept(session)
        if kept is not None:
            kept.pop(key, None)
