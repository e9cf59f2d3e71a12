"""The alert's title and message in English, beside the Chinese (the alert events carry both).
Existing alerts start empty: their next evaluation writes the English.

Revision ID: 3e8b1f7a2c64
Revises: ce4a9ca8e518
Create Date: 2026-12-07 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8b1f7a2c64"
down_revision: str | Sequence[str] | None = "ce4a9ca8e518"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "title_en",
                sa.String(length=300),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "message_en",
                sa.String(length=4000),
                nullable=False,
                server_default="",
            )
        )
    # The model gives the value on insert: no server default left to differ from it.
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.alter_column("title_en", server_default=None)
        batch_op.alter_column("message_en", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("message_en")
        batch_op.drop_column("title_en")
