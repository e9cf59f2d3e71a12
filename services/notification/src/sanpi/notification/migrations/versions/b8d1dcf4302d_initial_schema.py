"""Initial schema: the notification's tables and the kit's, as create_all made them before migrations.

Revision ID: b8d1dcf4302d
Revises:
Create Date: 2026-11-23 01:43:53.089924
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "b8d1dcf4302d"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL keeps an ENUM type when its table is dropped: downgrade drops them, or the next
# upgrade would fail on CREATE TYPE.
ENUM_TYPES = (
    "channel",
    "language",
)


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=True),
        sa.Column("alert_key", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempts_before_replay", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("held_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_alert_key"), ["alert_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_group_key"), ["group_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delivery_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_attempt_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "delivery_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("project_name", sa.String(length=300), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_delivery_event_sub_event"),
    )
    with op.batch_alter_table("delivery_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_event_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "idempotent_request",
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "scope", "key"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id"),
    )
    op.create_table(
        "notification_alert",
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("responsible_unit", sa.String(length=200), nullable=True),
        sa.Column("sponsor_leader", sa.String(length=200), nullable=True),
        sa.Column("last_event_id", sa.String(length=64), nullable=False),
        sa.Column("last_event_time", UTCDateTime(), nullable=False),
        sa.Column("last_payload", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("alert_key"),
    )
    op.create_table(
        "notification_alert_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("red_since", UTCDateTime(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("next_repeat_at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "alert_key", name="uq_follow_sub_alert"),
    )
    with op.batch_alter_table("notification_alert_follow", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_alert_follow_alert_key"), ["alert_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_alert_follow_next_escalation_at"),
            ["next_escalation_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notification_alert_follow_next_repeat_at"),
            ["next_repeat_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notification_alert_follow_subscription_id"),
            ["subscription_id"],
            unique=False,
        )

    op.create_table(
        "notification_project_view",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.Column("chain_tag", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("total_investment", sa.Integer(), nullable=True),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("responsible_unit", sa.String(length=200), nullable=True),
        sa.Column("sponsor_leader", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_table(
        "notification_stream_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("appended_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id", name="notification_stream_event_event_id_key"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("notification_stream_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_stream_event_appended_at"), ["appended_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "subscription",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("WEBHOOK", "EMAIL", "STREAM", "INBOX", name="channel"),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("previous_secret", sa.String(length=128), nullable=True),
        sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=8), nullable=True),
        sa.Column("parks", sa.JSON(), nullable=False),
        sa.Column("chain_tags", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("project_ids", sa.JSON(), nullable=False),
        sa.Column("min_investment", sa.Integer(), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("language", sa.Enum("ZH", "EN", name="language"), nullable=False),
        sa.Column("escalation_contacts", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_owner"), ["owner"], unique=False)


def downgrade() -> None:
    for table in (
        "subscription",
        "outbox",
        "notification_stream_event",
        "notification_project_view",
        "notification_alert_follow",
        "notification_alert",
        "inbox",
        "idempotent_request",
        "delivery_event",
        "delivery_attempt",
        "delivery",
    ):
        op.drop_table(table)
    for name in ENUM_TYPES:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
