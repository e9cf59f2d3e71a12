"""Waiting helpers for background loops: sleep unless stopped, wake on whichever event comes first."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> None:
    """Sleeps `seconds`, returning early when `stopping` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)


async def wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Returns when any event is set or after `timeout` seconds."""
    waiters: list[asyncio.Task[Any]] = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
