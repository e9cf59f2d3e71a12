"""A service that does not answer gives a page in words, with the visitor still logged in, never
a trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanpi.kit import Role
from tests.support.portal import portal_in_process, portal_settings

pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize("path", ["/", "/alerts", "/indicators", "/subscriptions", "/projects/p1"])
async def test_a_page_whose_service_is_down_says_so(
    database_url: str, tmp_path: Path, path: str
) -> None:
    async with portal_in_process(portal_settings(database_url, tmp_path)) as portal:
        await portal.add_user("zhang", Role.VIEWER, (), display_name="张三")
        await portal.login("zhang")
        page = await portal.client.get(path)
        assert page.status_code == 503
        assert "服务暂时不可用" in page.text
        assert "张三" in page.text  # still logged in, the menu still there
        assert "Traceback" not in page.text
        assert "ConnectError" not in page.text
