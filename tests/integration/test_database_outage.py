"""Database unavailable: writes answer 503 with Retry-After, nothing is half-written, and the
service recovers by itself when the database is back (PostgreSQL stopped; SQLite lock held)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from sanpi.kit import Role
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Postgres, free_port
from tests.support.apps import auth, serve_in_process

PROJECT = {"name": "中软国际中原数字总部", "park": "梧桐", "total_investment": 80_000}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Database unavailable"


async def test_postgresql_stopped_then_restarted(run_dir: Path) -> None:
    directory = run_dir / "pg-outage"
    port = free_port()
    cluster = Postgres(
        directory, port, {"PG_DIR": str(directory), "PG_PORT": str(port), "PG_FAST": "1"}
    )
    assert cluster.script("start").returncode == 0
    try:
        settings = RegistrySettings(database_url=cluster.url("sanpi_registry"), kafka_enabled=False)
        async with serve_in_process(create_app(settings)) as registry:
            registry.headers.update(auth(Role.ADMIN))
            assert (await registry.post("/v1/projects", json=PROJECT)).status_code == 201
            assert cluster.script("stop").returncode == 0

            assert_unavailable(
                await registry.post("/v1/projects", json={**PROJECT, "name": "在停机时提交"})
            )
            assert_unavailable(await registry.get("/v1/projects"))
            ready = await registry.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("unavailable")

            assert cluster.script("start").returncode == 0
            assert (
                await registry.post("/v1/projects", json={**PROJECT, "name": "恢复后提交"})
            ).status_code == 201
            names = [p["name"] for p in (await registry.get("/v1/projects")).json()["items"]]
            assert names == ["中软国际中原数字总部", "恢复后提交"], (
                "the write during the outage left nothing"
            )
            assert (await registry.get("/readyz")).status_code == 200
    finally:
        cluster.script("destroy")


async def test_sqlite_locked_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    settings = RegistrySettings(
        database_url=f"sqlite+aiosqlite:///{path}",
        kafka_enabled=False,
        database_busy_timeout_ms=200,
    )
    async with serve_in_process(create_app(settings)) as registry:
        registry.headers.update(auth(Role.ADMIN))
        assert (await registry.post("/v1/projects", json=PROJECT)).status_code == 201
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool or a stuck migration
            assert_unavailable(
                await registry.post("/v1/projects", json={**PROJECT, "name": "锁住时提交"})
            )
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (
            await registry.post("/v1/projects", json={**PROJECT, "name": "解锁后提交"})
        ).status_code == 201
        names = [p["name"] for p in (await registry.get("/v1/projects")).json()["items"]]
        assert names == ["中软国际中原数字总部", "解锁后提交"]
