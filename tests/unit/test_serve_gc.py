"""A served process hides its start-up heap from the garbage collector once the app is built."""

from __future__ import annotations

import gc

import pytest
from fastapi import FastAPI

from sanpi.kit.serve import frozen_after

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent


def test_the_app_and_everything_alive_then_leave_the_collectors_generations() -> None:
    built = FastAPI()
    assert any(o is built for o in gc.get_objects())
    try:
        assert frozen_after(lambda: built)() is built
        assert gc.get_freeze_count() > 0
        assert not any(o is built for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is built for o in gc.get_objects())
