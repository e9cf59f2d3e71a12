"""Named baselines: each approved change of a project's milestone plan, with who, why and the dates.

Revision ID: 6b1d0e2c9a57
Revises: f25c80d1b6a4
Create Date: 2026-12-06 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "6b1d0e2c9a57"
down_revision: str | Sequence[str] | None = "f25c80d1b6a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone_baseline",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("dates", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name", name="milestone_baseline_project_id_name_key"),
    )
    op.create_index(
        "ix_milestone_baseline_project_id", "milestone_baseline", ["project_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_milestone_baseline_project_id", table_name="milestone_baseline")
    op.drop_table("milestone_baseline")
