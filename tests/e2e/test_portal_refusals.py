"""A form the notification service refuses, in real Chromium on a phone: the reason beside the
field reads in the visitor's language (Chinese by default, English after the language switch),
never both, and the page still fits a 390×844 phone. The screenshots are kept in the test's
tmp_path (refusal-zh.png, refusal-en.png) for a person to look at."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import (
    PHONE,
    PortalProcess,
    browsing,
    horizontal_overflow,
    log_in,
    settled,
)

pytestmark = pytest.mark.e2e

# A 飞书 robot's address given to a 钉钉 robot: the portal's own checks pass it, the notification
# service refuses it (before any DNS lookup: the host is not DingTalk's).
WRONG_VENDOR = "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef12-3456"
HAN = re.compile(r"[\u4e00-\u9fff]")


async def test_a_refused_robot_address_reads_in_the_visitors_language_on_a_phone(
    portal: PortalProcess, browser: Browser, tmp_path: Path
) -> None:
    visitor = f"sub-{uuid.uuid4().hex[:6]}"
    portal.add_user(visitor, "operator", ("梧桐",), display_name="梧桐订阅者")
    said: dict[str, str] = {}
    too_wide: dict[str, int] = {}
    for lang in ("zh", "en"):
        async with browsing(browser, viewport=PHONE) as (_context, page, _recorded):
            await log_in(page, portal, visitor)
            await page.goto(f"{portal.url}/subscriptions/new")
            if lang == "en":
                await page.click("a.lang")
                await expect(page.locator("html")).to_have_attribute("lang", "en")
            await page.select_option("#f-channel", "dingtalk")
            await page.fill("#f-url", WRONG_VENDOR)
            await page.fill("#f-secret", "SEC0123456789abcdef")
            await page.check('input[name="topics"][value="alerts"]')
            await page.click("form.card button[type=submit]")
            error = page.locator("#url-error")
            await expect(error).to_be_visible()
            await settled(page)
            await page.locator("#f-url").scroll_into_view_if_needed()
            await page.screenshot(path=str(tmp_path / f"refusal-{lang}.png"))
            said[lang] = await error.inner_text()
            too_wide[lang] = await horizontal_overflow(page)
    assert said["zh"].startswith("不是钉钉机器人的 Webhook 地址，应形如 https://oapi.dingtalk.com/")
    assert not re.search(r"[A-Za-z]{3,} robot URL", said["zh"])
    assert said["en"].startswith(
        "not a DingTalk robot URL; it looks like https://oapi.dingtalk.com/"
    )
    assert not HAN.search(said["en"])
    assert too_wide == {"zh": 0, "en": 0}
