"""Marks of projects whose rules are due for evaluation: a change writes its project's mark in
its transaction, and the evaluation run after the commit (for many requests together) deletes it.

Revision ID: 812b915c0134
Revises: c41f7e2a9b05
Create Date: 2026-11-23 16:44:16.876738
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "812b915c0134"
down_revision: str | Sequence[str] | None = "c41f7e2a9b05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_due",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("marked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
    )
    with op.batch_alter_table("evaluation_due", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_due_marked_at"), ["marked_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_due", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_due_marked_at"))

    op.drop_table("evaluation_due")
