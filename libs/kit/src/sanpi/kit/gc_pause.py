"""A pause of Python's cyclic garbage collector around a bounded pass over many objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Nesting depth of gc_paused() in this process, and whether the collector ran before the first.
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Keeps the cyclic collector off while the block runs; reference counting still frees
    everything that is not a cycle.

    A full rule evaluation builds ~1.8M short-lived fact objects at province scale. They outlive
    the young generations, so the collector promoted them and ran full scans of the whole heap
    (0.1–0.2 s each) every few thousand projects: half of the pass. Only bounded passes belong
    in here: cycles made inside wait for the next collection after the pause. Pauses may nest
    and overlap (concurrent tasks); the collector resumes when the last one ends, and only if it
    was running before the first one began."""
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
