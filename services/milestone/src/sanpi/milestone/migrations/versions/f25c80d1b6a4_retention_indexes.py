"""Retention: the consumer inbox and the stored idempotent answers, indexed by age for the pruner, which deletes the oldest first.

Revision ID: f25c80d1b6a4
Revises: b40fb9a1e5e7
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f25c80d1b6a4"
down_revision: str | Sequence[str] | None = "b40fb9a1e5e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_inbox_processed_at", "inbox", "processed_at"),
    ("ix_idempotent_request_created_at", "idempotent_request", "created_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
