"""Alert acknowledgement note, and the index of the open alert list

Revision ID: cb0727398607
Revises: 2938f744cc8a
Create Date: 2026-12-06 07:57:31.611411
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cb0727398607"
down_revision: str | Sequence[str] | None = "2938f744cc8a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledgement_note", sa.String(length=500), nullable=True))
        batch_op.create_index(
            "ix_notification_alert_open",
            ["firing", "acknowledged_at", "last_event_time"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_alert_open")
        batch_op.drop_column("acknowledgement_note")
