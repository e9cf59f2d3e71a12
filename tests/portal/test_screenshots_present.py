"""Every main page of the portal has its screenshots in docs/images (desktop and phone, made by
`make screenshots`), and the user guide shows them."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from scripts.portal_screenshots import PAGES, SIZES, image_name

pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


def png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width: int = struct.unpack(">I", head[16:20])[0]
    return width


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_page_has_its_screenshot(page: str, size: str) -> None:
    path = IMAGES / image_name(page, size)
    assert path.exists(), f"{path.name} is missing: run `make screenshots`"
    assert png_width(path) == SIZES[size]["width"]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_guide_shows_the_page(page: str) -> None:
    guide = (ROOT / "docs" / "zh" / "guide.md").read_text()
    assert f"../images/{image_name(page, 'desktop')}" in guide or (
        f"../images/{image_name(page, 'phone')}" in guide
    ), f"docs/zh/guide.md does not show {page}"
