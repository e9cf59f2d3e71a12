"""The version of the last project.stage_changed the stage projection applied: an older change
(late, or redriven) never moves the stage back. Existing rows start at 0, so the next change
the milestone service publishes (with a version) applies.

Revision ID: ffb577e9b8d5
Revises: 53aa30842e5f
Create Date: 2026-12-06 07:19:51.841342
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ffb577e9b8d5"
down_revision: str | Sequence[str] | None = "53aa30842e5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage_version", sa.Integer(), nullable=False, server_default="0")
        )
    # The model gives the value on insert: no server default left to differ from it.
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.alter_column("stage_version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_column("stage_version")
