"""Typed keys of what a unit of work holds for one transaction: slots and commit signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """A value kept for one transaction (a cache of what it read, rows it writes at commit),
    declared once by the module that owns it and reached through the unit of work:

        VIEWS: Slot[dict[str, ProjectView | None]] = Slot("notification.views", dict)
        views = uow.slot(VIEWS)        # made by the factory on first use

    The value ends with the transaction; only the module that declares a slot uses it."""

    __slots__ = ("factory", "name")

    def __init__(self, name: str, factory: Callable[[], T]) -> None:
        self.name = name
        self.factory = factory

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class CommitSignal:
    """Set after the commit of every unit of work that asked for it (`uow.wake(signal)`): how a
    background loop (the outbox relay, the delivery worker) wakes the moment there is work,
    instead of at its next poll. `Database.commit_signal(signal)` is the loop's asyncio.Event."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"CommitSignal({self.name!r})"
