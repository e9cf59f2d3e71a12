"""Signing secrets are stored sealed (kit/sealing.py), which needs wider columns; and the answers
kept for Idempotency-Key replays of subscription creates lose the secret they held. The plaintext
secrets already stored are sealed by the service at start-up (it has the key; a migration does
not), and by `python -m sanpi.notification secrets reseal`.

Revision ID: 87646b6b6871
Revises: b8d1dcf4302d
Create Date: 2026-12-06 07:39:09.989417
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

SUBSCRIPTION_CREATE = "POST /v1/subscriptions"

revision: str = "87646b6b6871"
down_revision: str | Sequence[str] | None = "b8d1dcf4302d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _secret_columns(128, 512)
    _redact_replayable_secrets()


def _redact_replayable_secrets() -> None:
    """A replay of a create answered the secret for ever, even after rotation or deletion."""
    requests = sa.table(
        "idempotent_request",
        sa.column("subject", sa.String),
        sa.column("scope", sa.String),
        sa.column("key", sa.String),
        sa.column("response_body", sa.Text),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(requests.c.subject, requests.c.key, requests.c.response_body).where(
            requests.c.scope == SUBSCRIPTION_CREATE
        )
    ).all()
    for subject, key, body in rows:
        answer = json.loads(body)
        if not isinstance(answer, dict) or answer.get("secret") is None:
            continue
        answer.update(secret=None, secret_redacted=True)
        connection.execute(
            sa.update(requests)
            .where(
                requests.c.subject == subject,
                requests.c.scope == SUBSCRIPTION_CREATE,
                requests.c.key == key,
            )
            .values(response_body=json.dumps(answer, ensure_ascii=False))
        )


def downgrade() -> None:
    # Sealed secrets stay sealed (and longer than 128 characters): a downgrade past this revision
    # needs a database restored from before it.
    _secret_columns(512, 128)


def _secret_columns(before: int, after: int) -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        for column in ("secret", "previous_secret"):
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=before),
                type_=sa.String(length=after),
                existing_nullable=True,
            )
