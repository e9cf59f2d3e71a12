"""Compares a migrated database with the models, as Alembic's autogenerate sees them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel

from sanpi.kit.migrations import Migrations


def differences(connection: Connection, migrations: Migrations) -> list[Any]:
    """Autogenerate's diff of the database with the service's models: empty when in step."""
    context = MigrationContext.configure(
        connection,
        opts={
            "target_metadata": SQLModel.metadata,
            "include_name": migrations.include_name,
            "include_object": migrations.include_object,
            "compare_type": True,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))
