"""One firing alert per key: a partial unique index, so replicas evaluating the same project at
once cannot raise an alert twice.

Revision ID: fda1c5016e2c
Revises: 6d807b0cda0e
Create Date: 2026-11-23 02:43:51.782831
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fda1c5016e2c"
down_revision: str | Sequence[str] | None = "6d807b0cda0e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(
            "uq_alert_firing_key",
            ["alert_key"],
            unique=True,
            sqlite_where=sa.text("state = 'FIRING'"),
            postgresql_where=sa.text("state = 'FIRING'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alert_firing_key",
            sqlite_where=sa.text("state = 'FIRING'"),
            postgresql_where=sa.text("state = 'FIRING'"),
        )
