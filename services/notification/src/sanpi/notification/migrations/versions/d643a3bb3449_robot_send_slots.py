"""Robot send slots: the send ledger that holds a group robot's limits (20 a minute; 飞书's 5 a second) across every replica on the database.

Revision ID: d643a3bb3449
Revises: c3f1a7d95e20
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d643a3bb3449"
down_revision: str | Sequence[str] | None = "c3f1a7d95e20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_robot_slot",
        sa.Column("robot", sa.String(length=64), nullable=False),
        sa.Column("ring", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("robot", "ring", "slot"),
    )


def downgrade() -> None:
    op.drop_table("notification_robot_slot")
