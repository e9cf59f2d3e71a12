"""Fixtures of the portal's tests: the portal in-process on this test's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.portal import District, Portal, portal_in_process, portal_settings
from tests.support.world import three_services


@pytest.fixture
async def portal(district: District) -> Portal:
    """The portal, with the services in-process behind it (no projects)."""
    return district.portal


@pytest.fixture
async def district(
    database_url: str, tmp_path: Path, service_databases: None
) -> AsyncIterator[District]:
    """The three services in-process on 2023-06-15 behind the portal, with two parks' projects."""
    async with (
        three_services(tmp_path) as world,
        portal_in_process(
            portal_settings(database_url, tmp_path / "portal"), world.apps
        ) as running,
    ):
        yield District(world, running)
