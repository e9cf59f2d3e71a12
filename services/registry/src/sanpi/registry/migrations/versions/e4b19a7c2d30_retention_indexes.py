"""Retention: the consumer inbox and the stored idempotent answers, indexed by age for the pruner, which deletes the oldest first.

Revision ID: e4b19a7c2d30
Revises: ffb577e9b8d5
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e4b19a7c2d30"
down_revision: str | Sequence[str] | None = "ffb577e9b8d5"
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
