"""`python -m bench.profiled OUT -m MODULE [ARGS]` runs MODULE under pyinstrument; OUT gets the report.

The end-to-end bench starts the services this way with `--profile`. The report is written when the
process exits, SIGTERM included (the way scripts/stack.py stops a service): uvicorn handles the
signal, shuts down, then raises it again with the handler it found, which is this one.

Read it with care: samples of the whole process (1 ms, wall clock, async awaits not followed), so
idle waiting in the event loop shows as `select`, and aiokafka's connection frames serve its
produce and fetch requests alike (counting calls once showed 5–8 metadata updates per service
where the report suggested seconds of them).
"""

from __future__ import annotations

import runpy
import signal
import sys
from pathlib import Path
from types import FrameType

USAGE = "usage: python -m bench.profiled OUT -m MODULE [ARGS ...]"


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "-m" or argv[0] in ("-h", "--help"):
        sys.exit(USAGE)
    out, module, args = Path(argv[0]), argv[2], argv[3:]
    from pyinstrument import Profiler

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.argv = [module, *args]
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main(sys.argv[1:])
