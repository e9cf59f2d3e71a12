"""The firing alerts of given projects by index: (project_id, state), read after every report.

Revision ID: a7c3e9d2b4f1
Revises: fda1c5016e2c
Create Date: 2026-11-23 04:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a7c3e9d2b4f1"
down_revision: str | Sequence[str] | None = "fda1c5016e2c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_project_state", ["project_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_project_state")
