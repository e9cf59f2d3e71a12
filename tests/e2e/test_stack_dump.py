"""`kill -USR1 <pid>` has a running service write its threads' and asyncio tasks' stacks to its
log, and go on serving: how an operator (or a test that timed out) sees what a service waits on."""

from __future__ import annotations

import httpx
import pytest

from sanpi.kit.stacks import END_OF_STACKS
from scripts import stack
from tests.conftest import Stack

pytestmark = pytest.mark.e2e


async def test_each_service_writes_its_stacks_to_its_log_and_goes_on_serving(
    services: Stack,
) -> None:
    assert await services.dump_stacks() == list(stack.SERVICES)
    async with httpx.AsyncClient(timeout=10) as http:
        for name in stack.SERVICES:
            log = services.log(name)
            dump = log[log.rindex("--- stacks of pid") : log.rindex(END_OF_STACKS)]
            assert "Thread MainThread:" in dump, name
            # The consumer task and where it waits: in the consumer loop of sanpi.kit.
            assert "Task 'sanpi-consumer':" in dump, name
            assert "sanpi/kit/consumer.py" in dump, name
            assert (await http.get(f"{services.urls[name]}/healthz")).status_code == 200, name
