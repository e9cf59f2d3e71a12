"""Rules R14/R15: the registry's annual targets (portfolio_target) and 制造业 on tracked projects.

Revision ID: d5a1c0f3e8b2
Revises: a7c4e2f81d03
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "d5a1c0f3e8b2"
down_revision: str | Sequence[str] | None = "a7c4e2f81d03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portfolio_target",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SIGN_AMOUNT",
                "NEW_START_INVESTMENT",
                "MFG_SIGN_AMOUNT",
                "MFG_SIGN_COUNT",
                name="targetkind",
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", "scope", "kind"),
    )
    # Projects registered before know no 制造业 flag until the registry's next snapshot of them
    # (R15's manufacturing targets count only the ones known to be manufacturing).
    op.add_column("tracked_project", sa.Column("is_manufacturing", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("tracked_project", "is_manufacturing")
    op.drop_table("portfolio_target")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS targetkind")
