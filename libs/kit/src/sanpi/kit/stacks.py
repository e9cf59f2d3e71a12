"""`kill -USR1 <pid>` writes every thread's and every asyncio task's stack to stderr (the log)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import threading
import traceback
from types import FrameType

# A service whose consumer went silent after a broker restart logged nothing at all (no error,
# no watchdog): only the tasks' stacks say what it waits on, and py-spy sees threads, not tasks.
DUMP_SIGNAL = signal.SIGUSR1
# The dump's last line: a reader (a test) waits for it.
END_OF_STACKS = "--- end of stacks ---"


def stacks_text(loop: asyncio.AbstractEventLoop) -> str:
    """The stacks of this process's threads and of `loop`'s tasks, as one block of text."""
    out = io.StringIO()
    out.write(f"--- stacks of pid {os.getpid()} (SIGUSR1) ---\n")
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.write(f"Thread {names.get(ident, ident)}:\n")
        out.write("".join(traceback.format_stack(frame)))
    tasks = sorted(asyncio.all_tasks(loop), key=lambda task: task.get_name())
    out.write(f"{len(tasks)} asyncio tasks:\n")
    for task in tasks:
        out.write(f"Task {task.get_name()!r}:\n")
        frames, waiting_on = awaited_frames(task.get_coro())
        out.write("".join(traceback.StackSummary.extract(frames, limit=40).format()))
        if isinstance(waiting_on, asyncio.Future):  # a task's name says which
            out.write(f"  awaiting {waiting_on!r}\n")
    out.write(f"{END_OF_STACKS}\n")
    return out.getvalue()


def awaited_frames(awaitable: object) -> tuple[list[tuple[FrameType, int]], object]:
    """The frames of a coroutine and of the coroutines it awaits, outermost first, and what the
    innermost one awaits (a future, a task). Task.get_stack stops at the task's own coroutine,
    which says only that the task waits, not on what."""
    frames: list[tuple[FrameType, int]] = []
    while True:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is None:
            return frames, awaitable
        frames.append((frame, frame.f_lineno))
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)


def dump_stacks_on_signal(loop: asyncio.AbstractEventLoop) -> None:
    """Installs the SIGUSR1 handler, from the main thread only (the only one that may; an app
    a test serves from another thread goes without). A plain signal handler, not the loop's: it
    still runs while the loop is stuck in Python code, and writes with os.write, which no lock
    guards (a logging handler or sys.stderr interrupted mid-write would deadlock or raise)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def dump(_signum: int, _frame: FrameType | None) -> None:
        try:
            text = stacks_text(loop)
        except Exception as exc:  # a dump must never take the service down
            text = f"--- stacks unavailable: {exc!r} ---\n"
        os.write(sys.stderr.fileno(), text.encode(errors="replace"))

    signal.signal(DUMP_SIGNAL, dump)
