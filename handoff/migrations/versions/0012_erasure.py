"""Erased conversations: when a customer's words and personal data were removed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 20:00:00

``POST /api/customers/{id}/erase`` and the retention job keep an erased
conversation's rows for the metrics under a new, random id with every text
removed; ``erased_at`` marks them, so retention does not pick them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("erased_at")
