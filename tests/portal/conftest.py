"""Fixtures of the portal's tests: the portal in-process on this test's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.portal import Portal, portal_in_process, portal_settings


@pytest.fixture
async def portal(database_url: str, tmp_path: Path) -> AsyncIterator[Portal]:
    """The portal alone (no services behind it): enough for logging in and out."""
    async with portal_in_process(portal_settings(database_url, tmp_path)) as running:
        yield running
