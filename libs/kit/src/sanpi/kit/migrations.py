"""Schema migrations with Alembic: one history per service, upgraded at start-up or by `migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import zlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import CommandLine, Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import Inspector
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from sanpi.kit.db import Database, UTCDateTime
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.idempotency import IdempotentRequest
from sanpi.kit.outbox import OutboxMessage

log = logging.getLogger("sanpi.migrations")

# Every service's history creates these too: the outbox, the processed events (table `inbox`)
# and idempotent requests.
KIT_TABLES: tuple[type[SQLModel], ...] = (OutboxMessage, ProcessedEvent, IdempotentRequest)

VERSION_TABLE = "alembic_version"


class SchemaMismatch(RuntimeError):
    """A database with sanpi tables but no Alembic version whose tables are not the baseline's."""


@dataclass(frozen=True)
class Migrations:
    """One service's schema history: its tables (plus the kit's) and the folder of its Alembic
    environment (env.py, script.py.mako, versions/)."""

    service: str
    directory: Path
    tables: tuple[type[SQLModel], ...]

    @property
    def table_names(self) -> frozenset[str]:
        return frozenset(str(t.__tablename__) for t in (*KIT_TABLES, *self.tables))

    @property
    def lock_key(self) -> int:
        """The PostgreSQL advisory lock key of this history: fixed, and distinct per service."""
        return zlib.crc32(f"sanpi.migrations.{self.service}".encode())

    def config(
        self,
        connection: Connection | None = None,
        *,
        url: str = "",
        options: argparse.Namespace | None = None,
    ) -> Config:
        """Alembic's configuration, built in code: no alembic.ini to keep in step."""
        # Today's sys.stdout: Alembic's default is the one it saw when it was imported.
        config = Config(cmd_opts=options, stdout=sys.stdout)
        config.set_main_option("script_location", str(self.directory))
        if url:
            # Offline (--sql) mode only needs the dialect; '%' is ConfigParser's escape character.
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        config.attributes["connection"] = connection
        # A new revision leaves `alembic revision` already in the house format (ruff, dev only).
        hooks = {"ruff_fix": "check --fix --quiet", "ruff_format": "format --quiet"}
        config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
        for hook, arguments in hooks.items():
            config.set_section_option("post_write_hooks", f"{hook}.type", "module")
            config.set_section_option("post_write_hooks", f"{hook}.module", "ruff")
            config.set_section_option(
                "post_write_hooks", f"{hook}.options", f"{arguments} REVISION_SCRIPT_FILENAME"
            )
        return config

    def include_name(
        self, name: str | None, type_: str, _parent_names: dict[str, str | None]
    ) -> bool:
        """Only this service's and the kit's tables: all services share SQLModel.metadata."""
        return type_ != "table" or name in self.table_names

    def include_object(
        self, obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any
    ) -> bool:
        return type_ != "table" or name in self.table_names


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Renders column types so that a revision imports them: the kit's UTCDateTime, and SQLModel's
    AutoString as the plain String it is in the database."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sanpi.kit.db import UTCDateTime")
        return "UTCDateTime()"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_env(migrations: Migrations) -> None:
    """The body of every service's env.py: online on the connection we hand over, or --sql."""
    from alembic import context  # only importable while Alembic runs an env.py

    options: dict[str, Any] = {
        "target_metadata": SQLModel.metadata,
        "include_name": migrations.include_name,
        "include_object": migrations.include_object,
        # SQLite alters a table by copying it; batch mode does that, and is plain ALTER elsewhere.
        "render_as_batch": True,
        "render_item": render_item,
        "compare_type": True,
        "version_table": VERSION_TABLE,
    }
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or connection is None:
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True, **options
        )
    else:
        context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


# --- running a history ----------------------------------------------------------------------


@asynccontextmanager
async def migration_connection(
    db: Database, migrations: Migrations
) -> AsyncIterator[AsyncConnection]:
    """One transaction for a whole migration run, committed at the end.

    On PostgreSQL the transaction first takes the history's advisory lock: replicas that start
    together migrate one after the other, and the later ones find the schema at head. SQLite needs
    none: the kit begins every transaction IMMEDIATE, which already takes the database's write lock.
    """
    async with db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": migrations.lock_key}
            )
        yield conn


async def upgrade(db: Database, migrations: Migrations, revision: str = "head") -> None:
    """Brings the database to `revision`, adopting a database made by create_all first."""
    async with migration_connection(db, migrations) as conn:
        await conn.run_sync(_adopt_and_upgrade, migrations, revision)


async def downgrade(db: Database, migrations: Migrations, revision: str = "base") -> None:
    async with migration_connection(db, migrations) as conn:
        await conn.run_sync(lambda c: command.downgrade(migrations.config(c), revision))


async def migrate(url: str, migrations: Migrations) -> None:
    """`python -m sanpi.<service> migrate`: upgrade to head and stop (a Kubernetes init step)."""
    db = Database(url)
    try:
        await upgrade(db, migrations)
    finally:
        await db.dispose()


def _adopt_and_upgrade(connection: Connection, migrations: Migrations, revision: str) -> None:
    config = migrations.config(connection)
    if needs_adoption(connection, migrations):
        adopt(connection, migrations)
    command.upgrade(config, revision)
    log.info("%s schema at %s", migrations.service, current_revision(connection))


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def needs_adoption(connection: Connection, migrations: Migrations) -> bool:
    """True for a database made before migrations: our tables are there, Alembic's version isn't."""
    names = set(inspect(connection).get_table_names())
    return VERSION_TABLE not in names and bool(names & migrations.table_names)


def adopt(connection: Connection, migrations: Migrations) -> None:
    """Stamps the baseline revision on a create_all database whose tables are exactly the
    baseline's, so that later revisions apply to it; refuses anything else, saying what differs."""
    base = ScriptDirectory.from_config(migrations.config()).get_base()
    assert base is not None, f"the {migrations.service} history has no revision"
    expected = _baseline_shape(migrations, base)
    actual = _shape(inspect(connection), migrations.table_names)
    differences = _differences(expected, actual)
    if differences:
        raise SchemaMismatch(
            f"the {migrations.service} database has tables but no {VERSION_TABLE}, and they are "
            f"not those of revision {base}:\n  "
            + "\n  ".join(differences)
            + "\nMake them match, then `python -m sanpi."
            f"{migrations.service} alembic stamp {base}`; or start from an empty database."
        )
    command.stamp(migrations.config(connection), base)
    log.warning(
        "adopted a %s database made before migrations: stamped revision %s",
        migrations.service,
        base,
    )


class _TableShape(NamedTuple):
    columns: frozenset[str]
    indexes: frozenset[tuple[str | None, tuple[str, ...], bool]]
    uniques: frozenset[tuple[str, ...]]


def _shape(inspector: Inspector, names: Iterable[str]) -> dict[str, _TableShape]:
    """Tables, columns, indexes and unique constraints by name: the same on every dialect."""
    present = set(inspector.get_table_names())
    return {
        name: _TableShape(
            columns=frozenset(c["name"] for c in inspector.get_columns(name)),
            indexes=frozenset(
                (i["name"], tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
                # PostgreSQL also lists the index behind each unique constraint.
                if not i.get("duplicates_constraint")
            ),
            uniques=frozenset(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            ),
        )
        for name in sorted(names)
        if name in present
    }


def _baseline_shape(migrations: Migrations, base: str) -> dict[str, _TableShape]:
    """The baseline revision applied to a scratch in-memory SQLite database, then reflected."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as scratch:
            command.upgrade(migrations.config(scratch), base)
            return _shape(inspect(scratch), migrations.table_names)
    finally:
        engine.dispose()


def _differences(expected: dict[str, _TableShape], actual: dict[str, _TableShape]) -> list[str]:
    found: list[str] = []
    for name, want in expected.items():
        have = actual.get(name)
        if have is None:
            found.append(f"table {name}: missing")
            continue
        for field in _TableShape._fields:
            missing = getattr(want, field) - getattr(have, field)
            extra = getattr(have, field) - getattr(want, field)
            if missing:
                found.append(f"table {name}: {field} missing {sorted(missing, key=str)}")
            if extra:
                found.append(f"table {name}: {field} not expected {sorted(extra, key=str)}")
    return found


# --- the command line -------------------------------------------------------------------------


def alembic_command(migrations: Migrations, url: str, argv: list[str]) -> None:
    """`python -m sanpi.<service> alembic ARGS`: any Alembic command on this service's history,
    e.g. `revision --autogenerate -m "..."`, `downgrade -1`, `history`, `current`, `check`."""
    cli = CommandLine(prog=f"python -m sanpi.{migrations.service} alembic")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    if getattr(options, "sql", False):
        cli.run_cmd(migrations.config(url=url, options=options), options)
        return

    async def online() -> None:
        db = Database(url)
        try:
            async with migration_connection(db, migrations) as conn:
                await conn.run_sync(
                    lambda c: cli.run_cmd(migrations.config(c, url=url, options=options), options)
                )
        finally:
            await db.dispose()

    asyncio.run(online())
