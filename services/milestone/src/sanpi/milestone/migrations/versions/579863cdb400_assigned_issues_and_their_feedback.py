"""Assigned issues (交办事项) with their 13710 deadlines, and their feedback entries (issue 23).

Revision ID: 579863cdb400
Revises: 9d3f6a1c7e22
Create Date: 2026-12-06 17:07:07.583505
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "579863cdb400"
down_revision: str | Sequence[str] | None = "9d3f6a1c7e22"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assigned_issue",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "LAND", "APPROVAL", "FUNDING", "POWER", "DEMOLITION", "OTHER", name="issuecategory"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assigned_unit", sa.String(length=128), nullable=False),
        sa.Column("term", sa.Enum("ROUTINE", "MAJOR", name="issueterm"), nullable=False),
        sa.Column("raised_by", sa.String(length=128), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("feedback_due_on", sa.Date(), nullable=False),
        sa.Column("feedback_red_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("red_on", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.Enum("OPEN", "IN_PROGRESS", "CLOSED", name="issuestatus"), nullable=False
        ),
        sa.Column("first_feedback_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assigned_issue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assigned_issue_assigned_unit"), ["assigned_unit"], unique=False
        )
        batch_op.create_index("ix_assigned_issue_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_assigned_issue_project_status", ["project_id", "status"], unique=False
        )

    op.create_table(
        "assigned_issue_feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issue_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assigned_issue_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assigned_issue_feedback_issue_id"), ["issue_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assigned_issue_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assigned_issue_feedback_issue_id"))

    op.drop_table("assigned_issue_feedback")
    with op.batch_alter_table("assigned_issue", schema=None) as batch_op:
        batch_op.drop_index("ix_assigned_issue_project_status")
        batch_op.drop_index("ix_assigned_issue_created")
        batch_op.drop_index(batch_op.f("ix_assigned_issue_assigned_unit"))

    op.drop_table("assigned_issue")
    # PostgreSQL keeps an enum's type after its table: dropped so that upgrading again works.
    for name in ("issuecategory", "issueterm", "issuestatus"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
