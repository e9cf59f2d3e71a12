"""Initial schema: the milestone's tables and the kit's, as create_all made them before migrations.

Revision ID: 6d807b0cda0e
Revises:
Create Date: 2026-11-23 01:43:40.267569
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "6d807b0cda0e"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL keeps an ENUM type when its table is dropped: downgrade drops them, or the next
# upgrade would fail on CREATE TYPE.
ENUM_TYPES = (
    "alertrule",
    "alertstate",
    "category",
    "chaintag",
    "milestonekind",
    "milestonestatus",
    "reportperiodkind",
    "severity",
    "stage",
)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alert_key", sa.String(length=128), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(
                "R01",
                "R02",
                "R03",
                "R04",
                "R05",
                "R06",
                "R07",
                "R08",
                "R09",
                "R10",
                "R11",
                "R12",
                "R13",
                "R14",
                "R15",
                "R16",
                "R17",
                name="alertrule",
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum("BLUE", "GREEN", "YELLOW", "ORANGE", "RED", name="severity"),
            nullable=False,
        ),
        sa.Column("state", sa.Enum("FIRING", "RESOLVED", name="alertstate"), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.Column("project_name", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("message", sa.String(length=4000), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("evaluation_id", sa.String(length=36), nullable=False),
        sa.Column("first_raised_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_alert_key"), ["alert_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_park"), ["park"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_state"), ["state"], unique=False)

    op.create_table(
        "evaluation_pin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("pinned_by", sa.String(length=128), nullable=False),
        sa.Column("pinned_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
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
        "investment_plan",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("annual_plan", sa.Integer(), nullable=False),
        sa.Column("monthly", sa.JSON(), nullable=True),
        sa.Column("xun", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "year", name="investment_plan_project_id_year_key"),
    )
    with op.batch_alter_table("investment_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_investment_plan_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "milestone_node",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SIGNED",
                "FULFILLED",
                "LAND_ACQUIRED",
                "PLANNING_PERMIT",
                "CONSTRUCTION_PERMIT",
                "STARTED",
                "TOPPED_OUT",
                "EQUIPMENT_IN",
                "COMPLETED",
                "TRIAL_PRODUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "IN_STATISTICS",
                "CUSTOM",
                name="milestonekind",
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column("forecast_date", sa.Date(), nullable=True),
        sa.Column("actual_date", sa.Date(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "DUE_SOON", "OVERDUE", "ACHIEVED", name="milestonestatus"),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "project_id", "kind", "label", name="milestone_node_project_id_kind_label_key"
        ),
    )
    with op.batch_alter_table("milestone_node", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestone_node_project_id"), ["project_id"], unique=False
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
        "progress_report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("period_kind", sa.Enum("XUN", "MONTH", name="reportperiodkind"), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("completed_investment_cum", sa.Integer(), nullable=False),
        sa.Column("completed_investment_ytd", sa.Integer(), nullable=False),
        sa.Column("funds_arrived_cum", sa.Integer(), nullable=True),
        sa.Column("physical_progress_pct", sa.Float(), nullable=True),
        sa.Column("narrative", sa.String(length=4000), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("correction", sa.Boolean(), nullable=False),
        sa.Column("lowered_by_correction", sa.Boolean(), nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "project_id", "period_key", name="progress_report_project_id_period_key_key"
        ),
    )
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_report_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "stage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column(
            "from_stage",
            sa.Enum(
                "SIGNED",
                "FULFILLING",
                "UNDER_CONSTRUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "SUSPENDED",
                "CANCELLED",
                name="stage",
            ),
            nullable=True,
        ),
        sa.Column(
            "to_stage",
            sa.Enum(
                "SIGNED",
                "FULFILLING",
                "UNDER_CONSTRUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "SUSPENDED",
                "CANCELLED",
                name="stage",
            ),
            nullable=False,
        ),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column(
            "milestone_kind",
            sa.Enum(
                "SIGNED",
                "FULFILLED",
                "LAND_ACQUIRED",
                "PLANNING_PERMIT",
                "CONSTRUCTION_PERMIT",
                "STARTED",
                "TOPPED_OUT",
                "EQUIPMENT_IN",
                "COMPLETED",
                "TRIAL_PRODUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "IN_STATISTICS",
                "CUSTOM",
                name="milestonekind",
            ),
            nullable=True,
        ),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stage_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stage_change_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_entry_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "tracked_project",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=False),
        sa.Column("total_investment", sa.Integer(), nullable=False),
        sa.Column("contract_amount", sa.Integer(), nullable=True),
        sa.Column("annual_plan_investment", sa.Integer(), nullable=True),
        sa.Column(
            "chain_tag",
            sa.Enum(
                "IOT",
                "ELECTRONIC_INFORMATION",
                "BEIDOU",
                "NEW_MATERIALS",
                "COMPUTING",
                "HYDROGEN_STORAGE",
                "LIFE_HEALTH",
                "NEXT_GEN_IT",
                "QUANTUM",
                "BRAIN_INSPIRED",
                "FUTURE_NETWORK",
                "FRONTIER_MATERIALS",
                "OTHER",
                name="chaintag",
            ),
            nullable=True,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "ADVANCED_MANUFACTURING",
                "STRATEGIC_EMERGING",
                "DIGITAL_NEW_INFRA",
                "MAJOR_INFRA",
                "MODERN_SERVICES",
                "SOCIAL_LIVELIHOOD",
                "OTHER",
                name="category",
            ),
            nullable=True,
        ),
        sa.Column("responsible_person", sa.String(length=128), nullable=True),
        sa.Column("responsible_unit", sa.String(length=128), nullable=True),
        sa.Column("sponsor_leader", sa.String(length=128), nullable=True),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("signed_date", sa.Date(), nullable=True),
        sa.Column("planned_fulfill_date", sa.Date(), nullable=True),
        sa.Column("planned_start_date", sa.Date(), nullable=True),
        sa.Column("planned_completion_date", sa.Date(), nullable=True),
        sa.Column("planned_production_date", sa.Date(), nullable=True),
        sa.Column("planned_effective_date", sa.Date(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "SIGNED",
                "FULFILLING",
                "UNDER_CONSTRUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "SUSPENDED",
                "CANCELLED",
                name="stage",
            ),
            nullable=False,
        ),
        sa.Column(
            "resume_to",
            sa.Enum(
                "SIGNED",
                "FULFILLING",
                "UNDER_CONSTRUCTION",
                "IN_PRODUCTION",
                "EFFECTIVE",
                "SUSPENDED",
                "CANCELLED",
                name="stage",
            ),
            nullable=True,
        ),
        sa.Column("stage_since", sa.Date(), nullable=False),
        sa.Column("expected_resume_date", sa.Date(), nullable=True),
        sa.Column("registry_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
    )
    with op.batch_alter_table("tracked_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracked_project_park"), ["park"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracked_project_stage"), ["stage"], unique=False)


def downgrade() -> None:
    for table in (
        "tracked_project",
        "timeline_entry",
        "stage_change",
        "progress_report",
        "outbox",
        "milestone_node",
        "investment_plan",
        "inbox",
        "idempotent_request",
        "evaluation_pin",
        "alert",
    ):
        op.drop_table(table)
    for name in ENUM_TYPES:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
