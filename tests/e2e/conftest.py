"""Fixtures of the portal's browser tests: the portal as a process in front of the session's
services, and one Chromium for the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser

from tests.conftest import Postgres, Stack
from tests.support.browser import PortalProcess, chromium, portal_process


@pytest.fixture(scope="session")
def portal(services: Stack, postgres: Postgres | None) -> Iterator[PortalProcess]:
    directory = services.run_dir / "portal"
    directory.mkdir(parents=True, exist_ok=True)
    if postgres is not None:
        created = postgres.script("createdb", "sanpi_portal_e2e")
        assert created.returncode == 0, created.stderr
        url = postgres.url("sanpi_portal_e2e")
    else:
        url = f"sqlite+aiosqlite:///{directory}/portal.db"
    with portal_process(services.urls, services.env, directory, url) as running:
        yield running


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as running:
        yield running
