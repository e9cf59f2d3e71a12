"""The portal as a process in front of the session's services, and Debian's Chromium driven by
Playwright (its own browser download cannot work here): every request the browser makes is
recorded, so a test can say that no page asked any host but the portal."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from scripts import stack

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that would reach out on its own: the test counts every request.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The browser's own words (file inputs, date pickers) in Chinese, as the visitors' are.
    "--lang=zh-CN",
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "portal e2e password"


@dataclass
class PortalProcess:
    """`python -m sanpi.portal` on a free port, with its own database."""

    url: str
    env: dict[str, str]
    run_dir: Path

    def add_user(
        self,
        username: str,
        role: str,
        parks: tuple[str, ...] = (),
        display_name: str | None = None,
        password: str = PASSWORD,
    ) -> None:
        command = [
            str(stack.VENV_BIN / "python"),
            "-m",
            "sanpi.portal",
            "create-user",
            username,
            "--role",
            role,
            "--display-name",
            display_name or username,
        ]
        if parks:
            command += ["--parks", ",".join(parks)]
        done = subprocess.run(
            command,
            input=password + "\n",
            capture_output=True,
            text=True,
            check=False,
            cwd=stack.ROOT,
            env={**os.environ, **self.env},
        )
        assert done.returncode == 0, done.stderr


@contextmanager
def portal_process(
    urls: dict[str, str], env: dict[str, str], run_dir: Path, database_url: str
) -> Iterator[PortalProcess]:
    port = stack.free_port()
    portal_env = {
        **env,
        **stack.portal_env(urls, run_dir),
        "SANPI_PORTAL_DATABASE_URL": database_url,
        # Logins of a whole test session come from one address.
        "SANPI_PORTAL_LOGIN_BURST": "200",
    }
    pid = stack.start_portal(port=port, env=portal_env, run_dir=run_dir, urls=urls)
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_ready(url, timeout=60, pid=pid, marker="sanpi.portal")
        yield PortalProcess(url, {**portal_env, "SANPI_PORTAL_PORT": str(port)}, run_dir)
    finally:
        stack.stop_pidfile(run_dir / "pids" / "portal.pid", "sanpi.portal")


@dataclass
class Recorded:
    """Every URL the browser asked for, and what the console said."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign(self, portal_url: str) -> list[str]:
        """Requests to any host but the portal's (data: and blob: URLs ask no host)."""
        home = urlsplit(portal_url).netloc
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != home
        ]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    playwright: Playwright
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def browsing(
    browser: Browser, *, viewport: dict[str, int] = DESKTOP, locale: str = "zh-CN"
) -> AsyncIterator[tuple[BrowserContext, Page, Recorded]]:
    """A fresh browser profile (no cookies) with one page whose requests are recorded."""
    context = await browser.new_context(viewport=viewport, locale=locale)  # type: ignore[arg-type]
    recorded = Recorded()
    context.on("request", lambda request: recorded.requests.append(request.url))
    page = await context.new_page()
    page.on(
        "console",
        lambda message: (
            recorded.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    try:
        yield context, page, recorded
    finally:
        await context.close()


async def log_in(
    page: Page, portal: PortalProcess, username: str, password: str = PASSWORD
) -> None:
    await page.goto(f"{portal.url}/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def settled(page: Page) -> None:
    """The page, its fonts and charts are drawn (screenshots and layout checks wait for this)."""
    await page.wait_for_load_state("networkidle")
    await page.evaluate("document.fonts.ready.then(() => true)")


async def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    width: int = await page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
    )
    return width


def site_photo(day: dt.date, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG as a phone's camera writes it: EXIF DateTimeOriginal on `day`."""
    from PIL import Image

    image = Image.new("RGB", size, (120, 160, 90))
    for x in range(0, size[0], 40):
        for y in range(size[1] // 2, size[1]):
            image.putpixel((x, y), (90, 90, 90))
    exif = Image.Exif()
    exif[0x8769] = {0x9003: day.strftime("%Y:%m:%d 09:30:00")}  # ExifIFD: DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=85)
    return buffer.getvalue()
