"""Progress reports by (project, period end) with the figures R16 carries forward: evaluation
reads a project's recent reports and the highest older figures from the index alone; it replaces
the project_id index (a prefix of it).

Revision ID: c41f7e2a9b05
Revises: a7c3e9d2b4f1
Create Date: 2026-11-23 13:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c41f7e2a9b05"
down_revision: str | Sequence[str] | None = "a7c3e9d2b4f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["project_id", "period_end", "completed_investment_cum", "physical_progress_pct"]


def upgrade() -> None:
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index("ix_progress_report_project_end", COLUMNS, unique=False)
        batch_op.drop_index("ix_progress_report_project_id")


def downgrade() -> None:
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index("ix_progress_report_project_id", ["project_id"], unique=False)
        batch_op.drop_index("ix_progress_report_project_end")
