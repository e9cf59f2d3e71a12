"""Digest bulletins: the 旬's bulletin (通报) PDF a 旬 digest attaches, fetched once per 旬 from the milestone service's API.

Revision ID: 5d7e2b9c4a18
Revises: 41aa9b30ade4
Create Date: 2026-12-06 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "5d7e2b9c4a18"
down_revision: str | Sequence[str] | None = "41aa9b30ade4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_digest_bulletin",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )


def downgrade() -> None:
    op.drop_table("notification_digest_bulletin")
