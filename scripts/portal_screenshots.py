"""Screenshots of the portal's main pages, desktop and phone, into docs/images/ (make screenshots).

Starts its own stack on free ports under .run/screenshots (Kafka, the three services, the portal),
loads the 郑州高新区 district demo, adds a park operator and an official, and photographs each
page in Debian's Chromium at 1280×800 and 390×844. The user guide and the READMEs show them; a
test fails when one of PAGES has no picture.

    python scripts/portal_screenshots.py [--out docs/images] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts import stack  # noqa: E402 - after the path is set

# Each page shown in the docs: (name, who looks at it, path or a step that finds it, caption).
PAGES: dict[str, str] = {
    "login": "登录",
    "projects": "我的项目",
    "project": "项目详情",
    "report-milestone": "填报节点",
    "report-batch": "批量填报旬报",
    "alerts": "预警",
    "ranking": "红黄榜",
    "indicators": "指标",
    "subscriptions": "我的订阅",
    "admin-accounts": "管理：账号",
}
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "screenshots only"  # noqa: S105 - accounts of a throwaway stack

OPERATOR = ("wangfang", "operator", "梧桐", "王芳（梧桐园区）")
OFFICIAL = ("duchashi", "operator", "梧桐,双桥,石佛,枫杨", "督查室")


def image_name(page: str, size: str) -> str:
    return f"portal-{page}-{size}.png"


@dataclass
class Running:
    urls: dict[str, str]
    portal: str
    env: dict[str, str]
    token: str


def start(run: Path) -> Running:
    kafka_port, controller = stack.free_port(), stack.free_port()
    kafka_env = {
        "KAFKA_DIR": str(run / "kafka"),
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(controller),
        "KAFKA_FAST_START": "1",
        "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
    }
    stack.kafka("start", kafka_env)
    secret = stack.jwt_secret(run)
    env = stack.service_env(secret, f"127.0.0.1:{kafka_port}", run)
    ports = {name: stack.free_port() for name in stack.SERVICES}
    # As make up does: the bulletin reads the registry's indicators, a 旬 digest the bulletin
    # (without them the bulletin answered 503, its registry looked for on 8001).
    env["SANPI_MILESTONE_REGISTRY_URL"] = f"http://127.0.0.1:{ports['registry']}"
    env["SANPI_NOTIFICATION_MILESTONE_URL"] = f"http://127.0.0.1:{ports['milestone']}"
    urls = {}
    for name in stack.SERVICES:
        port = ports[name]
        pid = stack.start_service(name, port=port, env=env, run_dir=run)
        urls[name] = f"http://127.0.0.1:{port}"
        stack.wait_ready(urls[name], pid=pid, marker=f"sanpi.{name}")
    portal_port = stack.free_port()
    portal_env = {**env, "SANPI_PORTAL_LOGIN_BURST": "100"}
    pid = stack.start_portal(port=portal_port, env=portal_env, run_dir=run, urls=urls)
    portal = f"http://127.0.0.1:{portal_port}"
    stack.wait_ready(portal, pid=pid, marker="sanpi.portal")
    from sanpi.kit import Role, issue_token

    token = issue_token(secret, subject="admin", role=Role.ADMIN)
    return Running(urls, portal, {**portal_env, **stack.portal_env(urls, run)}, token)


def stop(run: Path) -> None:
    stack.stop_pidfile(run / "pids" / "portal.pid", "sanpi.portal")
    for name in stack.SERVICES:
        stack.stop_pidfile(run / "pids" / f"{name}.pid", f"sanpi.{name}")
    stack.kafka("stop", {"KAFKA_DIR": str(run / "kafka")})


def load_demo(running: Running) -> None:
    print("loading the district demo …", flush=True)
    env = {
        **os.environ,
        "SANPI_TOKEN": running.token,
        "SANPI_REGISTRY_URL": running.urls["registry"],
        "SANPI_MILESTONE_URL": running.urls["milestone"],
        "SANPI_NOTIFICATION_URL": running.urls["notification"],
    }
    subprocess.run([str(stack.VENV_BIN / "sanpi"), "demo", "load"], check=True, env=env)


def add_users(running: Running) -> None:
    for username, role, parks, display in (OPERATOR, OFFICIAL):
        subprocess.run(
            [
                str(stack.VENV_BIN / "python"),
                "-m",
                "sanpi.portal",
                "create-user",
                username,
                "--role",
                role,
                "--parks",
                parks,
                "--display-name",
                display,
            ],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, **running.env},
        )


def api(running: Running, method: str, url: str, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the stack on loopback
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {running.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read() or b"null")


def showcase_project(running: Running) -> str:
    """A 梧桐 project under construction with reports, for the project page."""
    page = api(
        running,
        "GET",
        f"{running.urls['milestone']}/v1/project-summaries?"
        + urllib.parse.urlencode({"park": "梧桐", "stage": "UNDER_CONSTRUCTION", "limit": 100}),
    )
    reporting = [p for p in page["items"] if p.get("last_report")]
    reporting.sort(key=lambda p: (p["colour"] == "green", -p["total_investment"]))
    return str((reporting or page["items"])[0]["project_id"])


def wait_for_alerts(running: Running) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = api(running, "GET", f"{running.urls['notification']}/v1/alert-states?limit=1")
        if states["items"]:
            return
        time.sleep(1)
    raise TimeoutError("no alert reached the notification service")


async def photograph(running: Running, out: Path) -> None:
    from playwright.async_api import Page, async_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, settled

    project = showcase_project(running)

    async def login(page: Page, username: str) -> None:
        await page.goto(f"{running.portal}/login")
        await page.fill("#f-username", username)
        await page.fill("#f-password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(lambda url: "/login" not in url)

    steps: dict[str, tuple[str | None, str]] = {
        "login": (None, "/login"),
        "projects": (OPERATOR[0], "/projects"),
        "project": (OPERATOR[0], f"/projects/{project}"),
        "report-milestone": (OPERATOR[0], f"/report/milestone?project={project}"),
        "report-batch": (OPERATOR[0], "/report/batch?park=梧桐"),
        "alerts": (OFFICIAL[0], "/alerts"),
        "ranking": (OFFICIAL[0], "/alerts/ranking"),
        "indicators": (OFFICIAL[0], "/indicators"),
        "subscriptions": (OFFICIAL[0], "/subscriptions"),
        "admin-accounts": ("admin", "/admin/accounts"),
    }
    admin_password = (running_dir / stack.PORTAL_ADMIN_PASSWORD_FILE).read_text().strip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS)
        )
        try:
            for size, viewport in SIZES.items():
                for who in (None, OPERATOR[0], OFFICIAL[0], "admin"):
                    context = await browser.new_context(viewport=viewport, locale="zh-CN")  # type: ignore[arg-type]
                    page = await context.new_page()
                    if who == "admin":
                        await page.goto(f"{running.portal}/login")
                        await page.fill("#f-username", "admin")
                        await page.fill("#f-password", admin_password)
                        await page.click("button[type=submit]")
                        await page.wait_for_url(lambda url: "/login" not in url)
                    elif who is not None:
                        await login(page, who)
                    for name, (user, path) in steps.items():
                        if user != who:
                            continue
                        await page.goto(f"{running.portal}{path}")
                        await settled(page)
                        await page.screenshot(path=str(out / image_name(name, size)))
                        print(f"  {image_name(name, size)}", flush=True)
                    await context.close()
        finally:
            await browser.close()


def subscribe_official(running: Running) -> None:
    """The official's subscription, so that 我的订阅 shows one (made as them through the API)."""
    from sanpi.kit import Role, issue_token

    secret = stack.jwt_secret(running_dir)
    token = issue_token(
        secret, subject=OFFICIAL[0], role=Role.OPERATOR, parks=OFFICIAL[2].split(",")
    )
    request = urllib.request.Request(  # noqa: S310 - the stack on loopback
        f"{running.urls['notification']}/v1/subscriptions",
        method="POST",
        data=json.dumps(
            {"channel": "inbox", "event_types": ["sanpi.alert.*"], "min_severity": "red"}
        ).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


running_dir = ROOT / ".run" / "screenshots"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    parser.add_argument("--stop", action="store_true", help="stop a stack left by --keep")
    args = parser.parse_args(argv)
    if args.stop:
        stop(running_dir)
        return 0
    shutil.rmtree(running_dir, ignore_errors=True)
    running_dir.mkdir(parents=True)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        running = start(running_dir)
        load_demo(running)
        add_users(running)
        subscribe_official(running)
        wait_for_alerts(running)
        asyncio.run(photograph(running, args.out))
        if args.keep:
            print(
                f"portal at {running.portal} (stop with: python scripts/portal_screenshots.py --stop)"
            )
            return 0
    finally:
        if not args.keep:
            stop(running_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
