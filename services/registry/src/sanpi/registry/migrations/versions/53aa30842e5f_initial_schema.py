"""Initial schema: the registry's tables and the kit's, as create_all made them before migrations.

Revision ID: 53aa30842e5f
Revises:
Create Date: 2026-11-23 01:43:32.338411
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "53aa30842e5f"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL keeps an ENUM type when its table is dropped: downgrade drops them, or the next
# upgrade would fail on CREATE TYPE.
ENUM_TYPES = (
    "batchtype",
    "cancelreason",
    "category",
    "chaintag",
    "enterpriseorigin",
    "fundingorigin",
    "periodstatus",
    "stage",
    "targetkind",
)


def upgrade() -> None:
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
        "listing",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("batch", sa.Enum("SIGN", "START", "PRODUCE", name="batchtype"), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("listed_total_investment", sa.Integer(), nullable=False),
        sa.Column("listed_annual_plan", sa.Integer(), nullable=True),
        sa.Column("source_period", sa.Integer(), nullable=True),
        sa.Column("listed_by", sa.String(length=128), nullable=False),
        sa.Column("listed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "batch"),
    )
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_listing_period_batch", ["period", "batch", "project_id"], unique=False
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
        "period",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PLANNED", "OPEN_FOR_DECLARATION", "HELD", "CLOSED", name="periodstatus"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    with op.batch_alter_table("period", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_period_event_date"), ["event_date"], unique=False)

    op.create_table(
        "project",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=False),
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
        sa.Column("is_manufacturing", sa.Boolean(), nullable=False),
        sa.Column(
            "funding_origin",
            sa.Enum("LOCAL", "OUT_OF_PROVINCE", "FOREIGN", name="fundingorigin"),
            nullable=True,
        ),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=True),
        sa.Column(
            "enterprise_origin",
            sa.Enum("LOCAL", "OUT_OF_PROVINCE", "FOREIGN", "HK_MO_TW", name="enterpriseorigin"),
            nullable=True,
        ),
        sa.Column("enterprise_origin_region", sa.String(length=64), nullable=True),
        sa.Column("total_investment", sa.Integer(), nullable=False),
        sa.Column("contract_amount", sa.Integer(), nullable=True),
        sa.Column("annual_plan_investment", sa.Integer(), nullable=True),
        sa.Column("construction_content", sa.Text(), nullable=True),
        sa.Column("expected_annual_output", sa.Integer(), nullable=True),
        sa.Column("expected_jobs", sa.Integer(), nullable=True),
        sa.Column("responsible_unit", sa.String(length=200), nullable=True),
        sa.Column("responsible_person", sa.String(length=100), nullable=True),
        sa.Column("sponsor_leader", sa.String(length=100), nullable=True),
        sa.Column("national_project_code", sa.String(length=32), nullable=True),
        sa.Column("signed_date", sa.Date(), nullable=True),
        sa.Column("planned_fulfill_date", sa.Date(), nullable=True),
        sa.Column("planned_start_date", sa.Date(), nullable=True),
        sa.Column("planned_completion_date", sa.Date(), nullable=True),
        sa.Column("planned_production_date", sa.Date(), nullable=True),
        sa.Column("planned_effective_date", sa.Date(), nullable=True),
        sa.Column(
            "initial_stage",
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
        sa.Column("fulfilled_date", sa.Date(), nullable=True),
        sa.Column("started_date", sa.Date(), nullable=True),
        sa.Column("production_date", sa.Date(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column(
            "cancel_reason_code",
            sa.Enum(
                "INVESTOR_FUNDING",
                "POLICY",
                "LAND",
                "MERGED",
                "DUPLICATE",
                "OTHER",
                name="cancelreason",
            ),
            nullable=True,
        ),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_chain_tag"), ["chain_tag"], unique=False)
        batch_op.create_index("ix_project_created_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_project_enterprise_name"), ["enterprise_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_is_manufacturing"), ["is_manufacturing"], unique=False
        )
        batch_op.create_index("ix_project_name_id", ["name", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_project_national_project_code"), ["national_project_code"], unique=False
        )
        batch_op.create_index("ix_project_park_created", ["park", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_project_stage_created", ["stage", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_project_total_id", ["total_investment", "id"], unique=False)

    op.create_table(
        "target",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SIGN_AMOUNT",
                "NEW_START_INVESTMENT",
                "MFG_SIGN_AMOUNT",
                "MFG_SIGN_COUNT",
                name="targetkind",
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", "scope", "kind"),
    )


def downgrade() -> None:
    for table in (
        "target",
        "project",
        "period",
        "outbox",
        "listing",
        "inbox",
        "idempotent_request",
    ):
        op.drop_table(table)
    for name in ENUM_TYPES:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
