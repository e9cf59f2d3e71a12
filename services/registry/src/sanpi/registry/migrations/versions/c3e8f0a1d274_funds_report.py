"""资金到位率: the funds projection, each project's cumulative 到位资金 per report period, from sanpi.progress.reported.v1.

Revision ID: c3e8f0a1d274
Revises: b7d41c9e0a52
Create Date: 2026-12-06 17:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e8f0a1d274"
down_revision: str | Sequence[str] | None = "b7d41c9e0a52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funds_report",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("funds_arrived_cum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "period_key"),
    )
    op.create_index(
        "ix_funds_report_project_end", "funds_report", ["project_id", "period_end"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_funds_report_project_end", table_name="funds_report")
    op.drop_table("funds_report")
