"""Webhook secret rotation: the rotated-out secret and until when it still signs.

Revision ID: 0003_webhook_secret_rotation
Revises: 0002_api
Create Date: 2026-12-03

The model is ``WebhookEndpointRecord`` in ``tailor/store/api_records.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tailor.store.records import UTCDateTime

revision: str = "0003_webhook_secret_rotation"
down_revision: str | None = "0002_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("previous_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
