"""The version of assigned issues (交办事项), for optimistic concurrency: +1 with each feedback
and the closing (销号), named by ETag/If-Match or the body's `version`. Existing issues start at 1:
no reader holds a version of them yet.

Revision ID: ce4a9ca8e518
Revises: d5a1c0f3e8b2
Create Date: 2026-12-07 06:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ce4a9ca8e518"
down_revision: str | Sequence[str] | None = "d5a1c0f3e8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assigned_issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    # The model gives the value on insert: no server default left to differ from it.
    with op.batch_alter_table("assigned_issue", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("assigned_issue", schema=None) as batch_op:
        batch_op.drop_column("version")
