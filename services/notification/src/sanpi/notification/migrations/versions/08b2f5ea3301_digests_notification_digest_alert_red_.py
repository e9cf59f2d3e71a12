"""Digests: the digests sent (one row per subscription, kind and slot, unique), each alert's last
red spell (since, ended) that a digest sorts by, and a subscription's digest settings.

Revision ID: 08b2f5ea3301
Revises: 3c9e4a7d2f10
Create Date: 2026-12-06 13:59:09.036815
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "08b2f5ea3301"
down_revision: str | Sequence[str] | None = "3c9e4a7d2f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_digest",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("turned_red", sa.Integer(), nullable=False),
        sa.Column("still_red", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "kind", "slot", name="uq_digest_sub_kind_slot"),
    )
    with op.batch_alter_table("notification_digest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_digest_subscription_id"), ["subscription_id"], unique=False
        )

    with op.batch_alter_table("notification_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("red_since", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("red_ended_at", UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notification_alert_red_ended_at"), ["red_ended_at"], unique=False
        )

    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_daily_at", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("digest_xun_at", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("digest_since", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "digest_working_days_only", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column(
                "digest_instead_of_immediate",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )

    # An alert red when this revision runs has been red since at least its last event: the
    # first digest lists it as still red, never as news it is not.
    op.execute(
        "UPDATE notification_alert SET red_since = last_event_time "
        "WHERE firing = true AND severity = 'red'"
    )


def downgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("digest_instead_of_immediate")
        batch_op.drop_column("digest_working_days_only")
        batch_op.drop_column("digest_since")
        batch_op.drop_column("digest_xun_at")
        batch_op.drop_column("digest_daily_at")

    with op.batch_alter_table("notification_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_alert_red_ended_at"))
        batch_op.drop_column("red_ended_at")
        batch_op.drop_column("red_since")

    with op.batch_alter_table("notification_digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_digest_subscription_id"))

    op.drop_table("notification_digest")
