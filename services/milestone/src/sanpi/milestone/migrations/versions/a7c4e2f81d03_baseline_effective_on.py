"""Named baselines get the campaign day they took effect, so a preview of an earlier day judges the plan before them.

Revision ID: a7c4e2f81d03
Revises: 579863cdb400
Create Date: 2026-12-06 20:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c4e2f81d03"
down_revision: str | Sequence[str] | None = "579863cdb400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("milestone_baseline") as batch:
        batch.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
    # The baselines approved before this revision: the day of their approval (UTC) is the best
    # the rows know; a pinned demo day was not recorded.
    milestone_baseline = sa.table(
        "milestone_baseline",
        sa.column("effective_on", sa.Date()),
        sa.column("approved_at", sa.DateTime()),
    )
    op.execute(
        milestone_baseline.update().values(
            effective_on=sa.func.date(milestone_baseline.c.approved_at)
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("milestone_baseline") as batch:
        batch.drop_column("effective_on")
