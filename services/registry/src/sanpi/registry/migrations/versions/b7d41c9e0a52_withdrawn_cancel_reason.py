"""调出: one more cancellation reason (WITHDRAWN), for projects taken off the campaign's assessment by a dated decision.

Revision ID: b7d41c9e0a52
Revises: e4b19a7c2d30
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b7d41c9e0a52"
down_revision: str | Sequence[str] | None = "e4b19a7c2d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Elsewhere the enum is a VARCHAR as long as its longest value (INVESTOR_FUNDING): it fits.
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL 12+ adds enum values inside a transaction (unused in it, as here).
        op.execute("ALTER TYPE cancelreason ADD VALUE IF NOT EXISTS 'WITHDRAWN'")


def downgrade() -> None:
    # A 调出 cannot be kept by a schema without its reason: it becomes OTHER, its text kept.
    # (PostgreSQL cannot drop enum values: the type keeps WITHDRAWN, unused.)
    op.execute(
        "UPDATE project SET cancel_reason_code = 'OTHER' WHERE cancel_reason_code = 'WITHDRAWN'"
    )
