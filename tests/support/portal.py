"""The portal in-process for fast page tests: its database of its own, and (optionally) the three
services in-process behind it, reached through a transport that hands the SDK's requests (made in
worker threads) to their ASGI apps on the test's event loop."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from sanpi.kit import Role, utcnow
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.portal.accounts import service as accounts
from sanpi.portal.app import create_app
from sanpi.portal.settings import PortalSettings
from tests.support.apps import auth, serve_in_process
from tests.support.world import World

HOSTS = {
    "registry": "http://registry.test",
    "milestone": "http://milestone.test",
    "notification": "http://notification.test",
}
PASSWORD = "correct horse battery"


class InProcessServices(httpx.BaseTransport):
    """A synchronous transport onto in-process ASGI apps running on `loop`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, apps: dict[str, FastAPI]) -> None:
        self.loop = loop
        self.transports = {
            HOSTS[name].removeprefix("http://"): httpx.ASGITransport(app=app)
            for name, app in apps.items()
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no service at {request.url.host}", request=request)
        body = request.read()

        async def forward() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            answer = await transport.handle_async_request(inner)
            content = await answer.aread()
            return answer.status_code, answer.headers.raw, content

        status, headers, content = asyncio.run_coroutine_threadsafe(forward(), self.loop).result(
            timeout=60
        )
        return httpx.Response(status, headers=headers, content=content)


def portal_settings(database_url: str, data_dir: Path, **overrides: object) -> PortalSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "env": "test",
        "jwt_secret": DEV_JWT_SECRET,
        "registry_url": HOSTS["registry"],
        "milestone_url": HOSTS["milestone"],
        "notification_url": HOSTS["notification"],
    }
    values.update(overrides)
    return PortalSettings(**values)  # type: ignore[arg-type]


@dataclass
class Portal:
    """The portal app behind an httpx client that keeps cookies like a browser."""

    app: FastAPI
    client: httpx.AsyncClient

    async def add_user(
        self,
        username: str,
        role: Role = Role.OPERATOR,
        parks: tuple[str, ...] = ("梧桐",),
        password: str = PASSWORD,
        display_name: str | None = None,
    ) -> None:
        async with self.app.state.runtime.db.transaction() as uow:
            await accounts.create(
                uow,
                username=username,
                display_name=display_name or username,
                role=role,
                parks=list(parks),
                password=password,
                by="test",
                now=utcnow(),
            )

    async def login_token(self) -> str:
        page = await self.client.get("/login")
        return csrf_of(page.text)

    async def login(
        self, username: str, password: str = PASSWORD, next_url: str = "/"
    ) -> httpx.Response:
        token = await self.login_token()
        return await self.client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": token,
                "next": next_url,
            },
        )

    async def csrf(self, path: str = "/") -> str:
        return csrf_of((await self.client.get(path)).text)


def post_forms_without_token(html: str) -> list[str]:
    """The opening tags of the page's POST forms that do not carry a non-empty CSRF field (the
    header's log-out form carries its own, so a page-wide search would miss a form's)."""
    missing = []
    for form in re.finditer(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
        opening = form.group(0).split(">", 1)[0] + ">"
        if 'method="post"' not in opening.lower():
            continue
        if not re.search(r'name="csrf_token" value="[^"]+"', form.group(0)):
            missing.append(opening)
    return missing


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@asynccontextmanager
async def portal_in_process(
    settings: PortalSettings, services: dict[str, FastAPI] | None = None
) -> AsyncIterator[Portal]:
    transport = InProcessServices(asyncio.get_running_loop(), services or {})
    app = create_app(settings, transport=transport)
    async with serve_in_process(app) as client:
        client.follow_redirects = False
        yield Portal(app, client)


@dataclass
class District:
    """The services (World) and the portal in front of them."""

    world: World
    portal: Portal

    async def admin(self, service: str, method: str, url: str, **kwargs: Any) -> Any:
        """A call to a service as an admin (setting up data, as the CLI would)."""
        answer = await self.world.clients[service].request(
            method, url, headers=auth(Role.ADMIN, "setup"), **kwargs
        )
        assert answer.status_code < 300, f"{method} {url}: {answer.text}"
        return answer.json() if answer.content else None

    async def project(self, name: str, park: str, **fields: Any) -> str:
        body = {
            "name": name,
            "park": park,
            "total_investment": 150_000,
            "annual_plan_investment": 36_000,
            "signed_date": "2023-01-28",
            "planned_start_date": "2023-03-01",
            **fields,
        }
        created = await self.admin("registry", "POST", "/v1/projects", json=body)
        await self.world.pump()
        return str(created["id"])

    async def evaluate(self, day: str) -> None:
        await self.admin(
            "milestone", "POST", "/v1/admin/evaluate", params={"as_of": day, "pin": "true"}
        )
        await self.world.pump()
