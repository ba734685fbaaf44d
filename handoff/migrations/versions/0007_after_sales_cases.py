"""After-sales cases the bot opened, for the dashboard's cases by type

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 01:10:00

The assistant sets the ``case_opened`` slot when the shop accepts a refund,
return, exchange or repair case; ingest stores one row per case here. Cases
opened before this revision were never recorded, so there is nothing to fill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "after_sales_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("case_type", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(
        "ix_after_sales_cases_conversation_id", "after_sales_cases", ["conversation_id"]
    )
    op.create_index("ix_after_sales_cases_opened", "after_sales_cases", ["opened_at", "case_type"])


def downgrade() -> None:
    op.drop_index("ix_after_sales_cases_opened", table_name="after_sales_cases")
    op.drop_index("ix_after_sales_cases_conversation_id", table_name="after_sales_cases")
    op.drop_table("after_sales_cases")
