"""Rows a consumer batch loaded up front, kept by key for the rest of its transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from sanpi.kit.slots import Slot
from sanpi.kit.unit_of_work import Reading, UnitOfWork, unit_of

V = TypeVar("V")


class Prefetched(Slot[dict[str, list[V]]]):
    """A repository's memory of one batch (Handlers.before_batch), a slot of the unit of work:
    `keep` what one query found for the batch's keys, then `rows` answers a key without SQL
    (None: the key was not prefetched, so ask the database), `add` keeps a row the batch creates
    as an object, and `forget` drops a key whose rows the batch wrote without one (the database
    answers it then). It ends with the transaction."""

    def __init__(self, name: str) -> None:
        super().__init__(name, dict)

    def keep(
        self,
        uow: UnitOfWork,
        keys: Sequence[str],
        rows: Iterable[V],
        key_of: Callable[[V], str],
    ) -> None:
        kept: dict[str, list[V]] = {key: [] for key in keys}
        for row in rows:
            kept[key_of(row)].append(row)
        uow.put(self, kept)

    def rows(self, tx: Reading, key: str) -> list[V] | None:
        """None also in a read session, which prefetches nothing."""
        uow = unit_of(tx)
        if uow is None:
            return None
        kept = uow.peek(self)
        if kept is None or key not in kept:
            return None
        return list(kept[key])

    def add(self, uow: UnitOfWork, key: str, row: V) -> None:
        kept = uow.peek(self)
        rows = kept.get(key) if kept is not None else None
        if rows is not None and all(known is not row for known in rows):
            rows.append(row)

    def forget(self, uow: UnitOfWork, key: str) -> None:
        kept = uow.peek(self)
        if kept is not None:
            kept.pop(key, None)
