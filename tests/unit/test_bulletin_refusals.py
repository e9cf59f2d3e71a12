"""The bulletin's refusals read in the reader's language: Chinese by default, English on request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sanpi.milestone.bulletins import documents, service
from sanpi.office.pdf import FontMissing
from tests.support.milestone import Milestones, milestone_service

pytestmark = pytest.mark.asyncio

EN = {"Accept-Language": "en"}


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path) as running:
        yield running


async def test_a_bad_period_is_refused_in_the_readers_language(svc: Milestones) -> None:
    zh = await svc.client.get("/v1/bulletins/2023-13")
    assert zh.status_code == 422
    assert zh.json()["errors"] == [
        {"field": "period", "reason": '应为 2023-03-X2（旬）或 2023-03（月），收到 "2023-13"'}
    ]
    en = await svc.client.get("/v1/bulletins/2023-13", headers=EN)
    assert en.json()["detail"] == 'expected a 旬 (2023-03-X2) or a month (2023-03), got "2023-13"'


async def test_a_pdf_without_a_chinese_font_is_refused_in_the_readers_language(
    svc: Milestones, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bulletin itself is not what this is about: any composed bulletin, then no font.
    async def composed(*_args: Any, **_kwargs: Any) -> object:
        return object()

    def no_font(_bulletin: object) -> bytes:
        raise FontMissing("no Chinese TrueType font found (x.ttc): install fonts-wqy-zenhei")

    monkeypatch.setattr(service, "compose", composed)
    monkeypatch.setattr(documents, "pdf_bytes", no_font)
    zh = await svc.client.get("/v1/bulletins/2023-03-X2", params={"format": "pdf"})
    assert zh.status_code == 503
    assert zh.json()["detail"] == (
        "无法生成 PDF：服务器没有安装中文字体（运维人员可运行 make fonts-cjk 安装）"
    )
    en = await svc.client.get("/v1/bulletins/2023-03-X2", params={"format": "pdf"}, headers=EN)
    assert en.json()["detail"] == (
        "cannot produce the PDF: no Chinese TrueType font found (x.ttc): install fonts-wqy-zenhei"
    )
