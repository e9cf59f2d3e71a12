"""Rule R18 (slip forecast): a new value of the alert rule enum on PostgreSQL.

Revision ID: 9d3f6a1c7e22
Revises: 6b1d0e2c9a57
Create Date: 2026-12-06 17:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "9d3f6a1c7e22"
down_revision: str | Sequence[str] | None = "6b1d0e2c9a57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Elsewhere the enum is a VARCHAR as long as its longest value, which R18 does not exceed.
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL 12+ adds enum values inside a transaction (unused in it, as here).
        op.execute("ALTER TYPE alertrule ADD VALUE IF NOT EXISTS 'R18'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; an R18 alert row would have nowhere to go anyway.
    pass
