"""Runs one service app in-process (lifespan included, Kafka off) for fast API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from sanpi.kit import Role, issue_token
from sanpi.kit.settings import DEV_JWT_SECRET


def token(role: Role = Role.ADMIN, subject: str = "tester", parks: tuple[str, ...] = ()) -> str:
    return issue_token(DEV_JWT_SECRET, subject=subject, role=role, parks=parks)


def auth(
    role: Role = Role.ADMIN, subject: str = "tester", parks: tuple[str, ...] = ()
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, subject, parks)}"}


@asynccontextmanager
async def serve_in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an httpx client (no network, no broker)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanpi.test") as client:
            yield client
