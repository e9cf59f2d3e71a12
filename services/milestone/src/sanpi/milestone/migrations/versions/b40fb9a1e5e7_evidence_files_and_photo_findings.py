"""Evidence photos uploaded for a project (the bytes live in the evidence store, by SHA-256), and
the photo findings of milestones (a cited photo of another day, or of no day) that R16 counts.

Revision ID: b40fb9a1e5e7
Revises: e0ee72ef29e0
Create Date: 2026-12-06 07:27:57.159257
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sanpi.kit.db import UTCDateTime

revision: str = "b40fb9a1e5e7"
down_revision: str | Sequence[str] | None = "e0ee72ef29e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=True),
        sa.Column("captured_on", sa.Date(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "sha256", name="evidence_file_project_id_sha256_key"),
    )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_file_project_created", ["project_id", "uploaded_at", "id"], unique=False
        )

    op.create_table(
        "photo_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("milestone_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("milestone_date", sa.Date(), nullable=False),
        sa.Column("evidence_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("captured_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("photo_finding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_photo_finding_milestone_id"), ["milestone_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_photo_finding_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("photo_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_finding_project_id"))
        batch_op.drop_index(batch_op.f("ix_photo_finding_milestone_id"))

    op.drop_table("photo_finding")
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_file_project_created")

    op.drop_table("evidence_file")
