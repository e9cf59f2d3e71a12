"""A delivery's rate-limit deferral on real time: a group robot's full window holds it back until
the wall clock, not the rules' clock, reaches the slot's end.

Revision ID: 7a3e5c1d9b24
Revises: e4b7c2a9d613
Create Date: 2026-12-07 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "7a3e5c1d9b24"
down_revision: str | Sequence[str] | None = "e4b7c2a9d613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deferred_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("deferred_until")
