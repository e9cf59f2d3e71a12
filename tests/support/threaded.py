"""Runs one service app under a real uvicorn in a background thread, for tools that speak HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from sanpi.kit import Runtime

T = TypeVar("T")

# Start-up creates the tables (a second or two on PostgreSQL); 30 s means something is wrong.
START_TIMEOUT_S = 30.0


@dataclass
class ThreadedServer:
    """A service listening on 127.0.0.1:<port>, its runtime, and the event loop it runs on."""

    url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Runs `coroutine` on the server's loop (where its database engine lives) and waits."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[ThreadedServer]:
    """The app with its lifespan, behind uvicorn on a free loopback port, until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())
        # Let the database driver finish closing its connections before the loop goes away.
        pending = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.wait(pending, timeout=5) if pending else asyncio.sleep(0))

    thread = threading.Thread(target=serve, name="sanpi-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped during start-up"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield ThreadedServer(f"http://127.0.0.1:{port}", app, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
