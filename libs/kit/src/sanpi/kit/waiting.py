"""Waiting helpers for background loops: sleep unless stopped, wake on whichever event comes first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], timeout_s: float) -> T:
    """The awaitable's result, or TimeoutError after `timeout_s`, the awaitable then cancelled
    and left to finish on its own. What asyncio.wait_for is for, without its two traps on
    Python 3.11:
    - it loses the caller's cancellation when the awaitable finishes in the same loop round
      (cpython gh-86296, fixed in 3.12): the cancelled loop runs on, and whoever awaits it after
      cancel() waits for good (80 of 300 tries in a probe on this machine);
    - after its timeout it waits until the awaitable gives way to the cancel, which a wedged
      client may never do: the bound would not bound."""
    task = asyncio.ensure_future(awaitable)
    task.add_done_callback(_retrieved)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise TimeoutError(f"not done within {timeout_s:g} s")
    return task.result()


def _retrieved(task: asyncio.Future[Any]) -> None:
    # A task left after its timeout may still fail: read, not reported as never retrieved.
    if not task.cancelled():
        task.exception()


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> None:
    """Sleeps `seconds`, returning early when `stopping` is set."""
    with contextlib.suppress(TimeoutError):
        await within(stopping.wait(), seconds)


async def wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Returns when any event is set or after `timeout` seconds."""
    waiters: list[asyncio.Task[Any]] = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
