"""A subscription's notifications of one project leave in order: an order key and a queue
position on each delivery (the position from a sequence on PostgreSQL), and an index of the
pending ones by key.

Revision ID: 2938f744cc8a
Revises: a93d6e1f7c52
Create Date: 2026-12-06 08:10:44.476662
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2938f744cc8a"
down_revision: str | Sequence[str] | None = "a93d6e1f7c52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("delivery_position")))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_delivery_pending_order",
            ["subscription_id", "order_key", "position"],
            unique=False,
            sqlite_where=sa.text("status = 'PENDING'"),
            postgresql_where=sa.text("status = 'PENDING'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_delivery_pending_order",
            sqlite_where=sa.text("status = 'PENDING'"),
            postgresql_where=sa.text("status = 'PENDING'"),
        )
        batch_op.drop_column("position")
        batch_op.drop_column("order_key")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("delivery_position")))
