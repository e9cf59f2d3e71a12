"""Robot channels (企业微信, 钉钉, 飞书): three more values of the channel enum, the mobile numbers a red alert @-mentions, and the last
error of a failing subscription (its health: e.g. a robot refusing the signature).

Revision ID: 3c9e4a7d2f10
Revises: cb0727398607
Create Date: 2026-12-06 11:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9e4a7d2f10"
down_revision: str | Sequence[str] | None = "cb0727398607"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD = ("WEBHOOK", "EMAIL", "STREAM", "INBOX")
ROBOTS = ("WECOM", "DINGTALK", "FEISHU")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL 12+ adds enum values inside a transaction (unused in it, as here).
        for value in ROBOTS:
            op.execute(f"ALTER TYPE channel ADD VALUE IF NOT EXISTS '{value}'")
    else:
        # Elsewhere the enum is a VARCHAR as long as its longest value.
        with op.batch_alter_table("subscription", schema=None) as batch_op:
            batch_op.alter_column(
                "channel",
                existing_type=sa.Enum(*OLD, name="channel"),
                type_=sa.Enum(*OLD, *ROBOTS, name="channel"),
                existing_nullable=False,
            )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mention_mobiles", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))


def downgrade() -> None:
    # Robot subscriptions cannot be kept by a schema without their channel.
    op.execute("DELETE FROM subscription WHERE channel IN ('WECOM', 'DINGTALK', 'FEISHU')")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("mention_mobiles")
        if op.get_bind().dialect.name != "postgresql":
            # (PostgreSQL cannot drop enum values: the type keeps them, unused.)
            batch_op.alter_column(
                "channel",
                existing_type=sa.Enum(*OLD, *ROBOTS, name="channel"),
                type_=sa.Enum(*OLD, name="channel"),
                existing_nullable=False,
            )
