"""waiting.within: a bound that neither loses its caller's cancellation (Python 3.11's wait_for
does, cpython gh-86296) nor waits past its timeout for an awaitable that will not give way."""

from __future__ import annotations

import asyncio

import pytest

from sanpi.kit.waiting import within


async def test_a_cancel_that_meets_the_awaited_result_is_never_lost() -> None:
    """The race: the loop's task is cancelled in the very round its bounded call finishes.
    asyncio.wait_for on 3.11 returns the result and drops the cancel (80 of 300 in a probe); the
    loop then ran on for good. Every yield count from 1 to 20, ten times each."""

    async def quick() -> int:
        await asyncio.sleep(0)
        return 1

    async def loop_forever() -> None:
        while True:
            await within(quick(), 0.5)

    lost = 0
    for yields in range(1, 21):
        for _ in range(10):
            task = asyncio.create_task(loop_forever())
            for _ in range(yields):
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=1.0)
            if not done:
                lost += 1
                while not task.done():  # clean up a task that ran on
                    task.cancel()
                    await asyncio.wait({task}, timeout=0.01)
            assert task.cancelled()
    assert lost == 0


async def test_the_timeout_does_not_wait_for_an_awaitable_that_will_not_give_way() -> None:
    released = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            await released.wait()  # a wedged client: gives way only when released

    started = asyncio.get_running_loop().time()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(within(stubborn(), 0.05), timeout=5)
    assert asyncio.get_running_loop().time() - started < 5
    await asyncio.wait_for(cancelled.wait(), timeout=5)  # it was asked to stop, all the same
    released.set()


async def test_the_result_and_the_awaitables_own_error_come_through() -> None:
    async def value() -> str:
        return "ok"

    async def failing() -> None:
        raise ValueError("boom")

    assert await within(value(), 1) == "ok"
    with pytest.raises(ValueError, match="boom"):
        await within(failing(), 1)
