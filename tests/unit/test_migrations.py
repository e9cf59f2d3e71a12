"""Each service's Alembic history on SQLite and PostgreSQL: head is the models, down and up again,
start-up on empty and on create_all databases, `migrate`, and replicas upgrading together."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import Connection, inspect, text

from sanpi.kit import Database, Migrations, ServiceSettings
from sanpi.kit.migrations import (
    SchemaMismatch,
    alembic_command,
    current_revision,
    downgrade,
    migrate,
    upgrade,
)
from sanpi.kit.serve import main
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.migrations import MIGRATIONS as MILESTONE
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.notification.migrations import MIGRATIONS as NOTIFICATION
from sanpi.notification.settings import NotificationSettings
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.migrations import MIGRATIONS as REGISTRY
from sanpi.registry.settings import RegistrySettings
from tests.conftest import ROOT
from tests.support.apps import auth, serve_in_process
from tests.support.schema import differences
from tests.support.waiting import eventually


@dataclass(frozen=True)
class Service:
    migrations: Migrations
    app: Callable[[Any], FastAPI]
    settings: type[ServiceSettings]
    # A list that reads one of the service's own tables.
    list_path: str


SERVICES = {
    "registry": Service(REGISTRY, registry_app, RegistrySettings, "/v1/projects"),
    "milestone": Service(MILESTONE, milestone_app, MilestoneSettings, "/v1/alerts"),
    "notification": Service(
        NOTIFICATION, notification_app, NotificationSettings, "/v1/subscriptions"
    ),
}

by_service = pytest.mark.parametrize("service", list(SERVICES.values()), ids=list(SERVICES))


def head(migrations: Migrations) -> str:
    revision = ScriptDirectory.from_config(migrations.config()).get_current_head()
    assert revision is not None
    return revision


def baseline(migrations: Migrations) -> str:
    revision = ScriptDirectory.from_config(migrations.config()).get_base()
    assert revision is not None
    return revision


async def look(url: str, probe: Callable[[Connection], Any]) -> Any:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(probe)
    finally:
        await db.dispose()


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def enum_types(connection: Connection) -> set[str]:
    if connection.dialect.name != "postgresql":
        return set()
    return {e["name"] for e in inspect(connection).get_enums()}  # type: ignore[attr-defined]


@by_service
async def test_head_is_exactly_the_models(service: Service, database_url: str) -> None:
    await migrate(database_url, service.migrations)
    assert await look(database_url, tables) == {*service.migrations.table_names, "alembic_version"}
    assert await look(database_url, lambda c: differences(c, service.migrations)) == []
    assert await look(database_url, current_revision) == head(service.migrations)


@by_service
async def test_downgrade_to_base_then_upgrade_again(service: Service, database_url: str) -> None:
    migrations = service.migrations
    await migrate(database_url, migrations)
    db = Database(database_url)
    try:
        await downgrade(db, migrations, "base")
        assert await look(database_url, tables) == {"alembic_version"}
        assert await look(database_url, enum_types) == set(), "ENUM types outlive their tables"
        assert await look(database_url, current_revision) is None
        await upgrade(db, migrations)
    finally:
        await db.dispose()
    assert await look(database_url, lambda c: differences(c, migrations)) == []
    assert await look(database_url, current_revision) == head(migrations)


async def started(service: Service, database_url: str, tmp_path: Path) -> int:
    """Starts the app in-process on the database and reads one of its lists; the status code."""
    settings = service.settings(data_dir=tmp_path, database_url=database_url, kafka_enabled=False)
    async with serve_in_process(service.app(settings)) as client:
        response = await client.get(service.list_path, headers=auth())
    return response.status_code


@by_service
async def test_the_app_migrates_an_empty_database_before_serving(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    assert await started(service, database_url, tmp_path) == 200
    assert await look(database_url, current_revision) == head(service.migrations)
    assert await look(database_url, lambda c: differences(c, service.migrations)) == []


async def made_by_create_all(url: str, migrations: Migrations) -> None:
    """A database as every service made it before migrations (create_all of the models of that
    time, which are the first revision's tables), with one row of history in it."""
    db = Database(url)
    try:
        await upgrade(db, migrations, revision=baseline(migrations))
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))
            await conn.execute(
                text(
                    "INSERT INTO inbox (consumer, source, event_id, event_type, processed_at) "
                    "VALUES ('old', '/sanpi/registry', 'e1', 't', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        await db.dispose()


@by_service
async def test_the_app_adopts_a_database_made_by_create_all(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    await made_by_create_all(database_url, service.migrations)
    assert "alembic_version" not in await look(database_url, tables)
    assert await started(service, database_url, tmp_path) == 200
    assert await look(database_url, current_revision) == head(service.migrations)
    assert await look(database_url, lambda c: differences(c, service.migrations)) == []
    rows = await look(
        database_url, lambda c: c.execute(text("SELECT event_id FROM inbox")).scalars().all()
    )
    assert rows == ["e1"], "adopting keeps the data"
    # And a second start finds it at head: nothing to adopt, nothing to do.
    assert await started(service, database_url, tmp_path) == 200


async def test_a_create_all_database_that_differs_is_refused_saying_how(database_url: str) -> None:
    await made_by_create_all(database_url, REGISTRY)
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_project_category"))
            await conn.execute(text("ALTER TABLE project ADD COLUMN legacy_note VARCHAR(10)"))
        with pytest.raises(SchemaMismatch) as refused:
            await upgrade(db, REGISTRY)
    finally:
        await db.dispose()
    message = str(refused.value)
    assert "ix_project_category" in message
    assert "legacy_note" in message
    # The tables of a database made before migrations are the baseline's: that is what to stamp.
    assert f"alembic stamp {baseline(REGISTRY)}" in message
    assert "alembic_version" not in await look(database_url, tables), "nothing stamped"
    assert "legacy_note" in {c["name"] for c in await look(database_url, columns("project"))}


def columns(table: str) -> Callable[[Connection], list[Any]]:
    return lambda c: list(inspect(c).get_columns(table))


async def test_migrate_upgrades_each_service_and_exits(
    database_url: str, another_database: Callable[[], Awaitable[str]]
) -> None:
    # Each service its own database (on PostgreSQL every service's URL is database_url), and the
    # three commands at once: a Python start costs seconds on a loaded machine.
    urls = {"registry": database_url}
    urls["milestone"] = await another_database()
    urls["notification"] = await another_database()
    commands = {
        name: await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"sanpi.{name}",
            "migrate",
            env={**os.environ, f"SANPI_{name.upper()}_DATABASE_URL": url},
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        for name, url in urls.items()
    }
    for name, process in commands.items():
        _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        migrations = SERVICES[name].migrations
        assert f"{name} schema at {head(migrations)}" in err.decode()
        assert await look(urls[name], current_revision) == head(migrations)


def test_alembic_commands_run_on_the_service_history(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    alembic_command(REGISTRY, database_url, ["upgrade", "head"])
    alembic_command(REGISTRY, database_url, ["current"])
    assert f"{head(REGISTRY)} (head)" in capsys.readouterr().out
    # `check` fails when the models hold something that no revision creates.
    alembic_command(REGISTRY, database_url, ["check"])
    assert "No new upgrade operations detected" in capsys.readouterr().out


def test_an_unknown_command_is_refused_with_the_usage() -> None:
    with pytest.raises(SystemExit) as refused:
        main(registry_app, RegistrySettings(), REGISTRY, ["upgrade-everything"])
    assert "usage: python -m sanpi.registry [migrate | alembic ARGS]" in str(refused.value)


@by_service
async def test_replicas_starting_together_all_succeed(service: Service, database_url: str) -> None:
    await asyncio.gather(*(migrate(database_url, service.migrations) for _ in range(4)))
    assert await look(database_url, current_revision) == head(service.migrations)
    assert await look(database_url, lambda c: differences(c, service.migrations)) == []


# Advisory locks are PostgreSQL's; on SQLite BEGIN IMMEDIATE serialises the upgrade.
@pytest.mark.postgres_only
async def test_an_upgrade_waits_for_the_advisory_lock(database_url: str) -> None:
    holder = Database(database_url)
    try:
        async with holder.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRY.lock_key}
            )
            upgrading = asyncio.create_task(migrate(database_url, REGISTRY))

            async def waiting() -> bool:
                found = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND objid = CAST(:key AS oid)"
                    ),
                    {"key": REGISTRY.lock_key},
                )
                return bool(found.scalar_one() == 1)

            await eventually(waiting, what="the upgrade queued on the lock")
            assert not upgrading.done()
            assert "alembic_version" not in await conn.run_sync(tables)
            await transaction.commit()
        await asyncio.wait_for(upgrading, timeout=30)
    finally:
        await holder.dispose()
    assert await look(database_url, current_revision) == head(REGISTRY)


async def test_tracked_projects_continue_from_the_stage_changes_they_had(database_url: str) -> None:
    # The revision before the stage version, with a project registered, started and suspended.
    db = Database(database_url)
    try:
        await upgrade(db, MILESTONE, revision="812b915c0134")
        async with db.engine.begin() as conn:
            for project_id in ("p-moved", "p-new"):
                await conn.execute(
                    text(
                        "INSERT INTO tracked_project (project_id, name, park, total_investment,"
                        " periods, registered_on, stage, stage_since, registry_version, updated_at)"
                        " VALUES (:id, 'x', '梧桐', 1, '[]', '2023-01-01', 'SIGNED', '2023-01-01',"
                        " 1, CURRENT_TIMESTAMP)"
                    ),
                    {"id": project_id},
                )
            for project_id, to_stage, reason in (
                ("p-moved", "SIGNED", "REGISTERED"),
                ("p-moved", "UNDER_CONSTRUCTION", "MILESTONE"),
                ("p-moved", "SUSPENDED", "SUSPENDED"),
                ("p-new", "SIGNED", "REGISTERED"),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO stage_change (project_id, to_stage, effective_date, reason,"
                        " changed_by, recorded_at) VALUES (:id, :to_stage, '2023-03-01', :reason,"
                        " 'it', CURRENT_TIMESTAMP)"
                    ),
                    {"id": project_id, "to_stage": to_stage, "reason": reason},
                )
        await upgrade(db, MILESTONE)
    finally:
        await db.dispose()
    versions = await look(
        database_url,
        lambda c: {
            row.project_id: row.stage_version
            for row in c.execute(text("SELECT project_id, stage_version FROM tracked_project"))
        },
    )
    assert versions == {"p-moved": 2, "p-new": 0}


async def test_assigned_issues_start_at_version_1(database_url: str) -> None:
    # The revision before the issue version, with one issue written (and closed) already.
    db = Database(database_url)
    try:
        await upgrade(db, MILESTONE, revision="d5a1c0f3e8b2")
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO assigned_issue (id, project_id, category, description,"
                    " assigned_unit, term, raised_by, raised_on, feedback_due_on, feedback_red_on,"
                    " due_on, red_on, status, closed_on, evidence, recorded_by, created_at,"
                    " updated_at) VALUES ('i-1', 'p1', 'LAND', '用地未批', '区自然资源局',"
                    " 'ROUTINE', 'it', '2023-04-21', '2023-04-25', '2023-04-28', '2023-05-04',"
                    " '2023-05-12', 'CLOSED', '2023-05-08', '[]', 'it', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                )
            )
        await upgrade(db, MILESTONE)
    finally:
        await db.dispose()
    versions = await look(
        database_url,
        lambda c: [tuple(row) for row in c.execute(text("SELECT id, version FROM assigned_issue"))],
    )
    assert versions == [("i-1", 1)]
    assert await look(database_url, lambda c: differences(c, MILESTONE)) == []
