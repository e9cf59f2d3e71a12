"""Retention: the consumer inbox, the stored idempotent answers and the delivery log, indexed by age for the pruner, which deletes the oldest first.

Revision ID: a93d6e1f7c52
Revises: 87646b6b6871
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a93d6e1f7c52"
down_revision: str | Sequence[str] | None = "87646b6b6871"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_inbox_processed_at", "inbox", "processed_at"),
    ("ix_idempotent_request_created_at", "idempotent_request", "created_at"),
    ("ix_delivery_created_at", "delivery", "created_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
