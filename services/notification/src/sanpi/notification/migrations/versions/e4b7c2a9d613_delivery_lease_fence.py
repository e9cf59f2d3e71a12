"""Delivery leases fenced: the claim's token and its lease's end on real time, so that an outcome is
recorded only by the claimer that still holds the delivery.

Revision ID: e4b7c2a9d613
Revises: d643a3bb3449
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "e4b7c2a9d613"
down_revision: str | Sequence[str] | None = "d643a3bb3449"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("leased_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("leased_until")
        batch_op.drop_column("lease_token")
