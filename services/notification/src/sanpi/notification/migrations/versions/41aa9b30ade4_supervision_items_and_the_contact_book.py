"""督办 as a loop: the contact book (notification_contact), supervision items
(notification_supervision), and on a delivery the item and contact a 督办 message is about.

Revision ID: 41aa9b30ade4
Revises: 08b2f5ea3301
Create Date: 2026-12-06 13:56:51.239194
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "41aa9b30ade4"
down_revision: str | Sequence[str] | None = "08b2f5ea3301"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_contact",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.Column("wecom_mobile", sa.String(length=11), nullable=True),
        sa.Column("wecom_robot_url", sa.String(length=2000), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("dingtalk_mobile", sa.String(length=11), nullable=True),
        sa.Column("dingtalk_robot_url", sa.String(length=2000), nullable=True),
        sa.Column("dingtalk_secret", sa.String(length=512), nullable=True),
        sa.Column("feishu_robot_url", sa.String(length=2000), nullable=True),
        sa.Column("feishu_secret", sa.String(length=512), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_contact_park"), ["park"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_contact_unit"), ["unit"], unique=False)

    op.create_table(
        "notification_supervision",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("contact_id", sa.String(length=36), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("overdue_count", sa.Integer(), nullable=False),
        sa.Column("response", sa.String(length=2000), nullable=True),
        sa.Column("responded_by", sa.String(length=128), nullable=True),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("close_note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification_supervision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_supervision_alert_key"), ["alert_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_supervision_park"), ["park"], unique=False
        )
        batch_op.create_index(
            "ix_notification_supervision_status_due", ["status", "due_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_supervision_unit"), ["unit"], unique=False
        )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supervision_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("contact_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("contact_id")
        batch_op.drop_column("supervision_id")

    with op.batch_alter_table("notification_supervision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_supervision_unit"))
        batch_op.drop_index("ix_notification_supervision_status_due")
        batch_op.drop_index(batch_op.f("ix_notification_supervision_park"))
        batch_op.drop_index(batch_op.f("ix_notification_supervision_alert_key"))

    op.drop_table("notification_supervision")
    with op.batch_alter_table("notification_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_contact_unit"))
        batch_op.drop_index(batch_op.f("ix_notification_contact_park"))

    op.drop_table("notification_contact")
