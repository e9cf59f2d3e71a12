"""The stage version of tracked projects: +1 with each stage change, carried by its
project.stage_changed so that readers never apply an older change over a newer one. Existing
projects start at the number of stage changes they already had (their registration aside).

Revision ID: e0ee72ef29e0
Revises: 812b915c0134
Create Date: 2026-12-06 07:20:02.745559
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e0ee72ef29e0"
down_revision: str | Sequence[str] | None = "812b915c0134"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracked_project", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE tracked_project SET stage_version = (SELECT count(*) FROM stage_change"
        " WHERE stage_change.project_id = tracked_project.project_id"
        " AND stage_change.reason <> 'REGISTERED')"
    )
    # The model gives the value on insert: no server default left to differ from it.
    with op.batch_alter_table("tracked_project", schema=None) as batch_op:
        batch_op.alter_column("stage_version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tracked_project", schema=None) as batch_op:
        batch_op.drop_column("stage_version")
