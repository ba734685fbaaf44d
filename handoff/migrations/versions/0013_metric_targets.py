"""KPI targets and weekly reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:40:00

The seeds' targets (first response: bot 10 s, human 30 s; resolution 90 %,
first-contact resolution 92 %, CSAT 85 % satisfied, complaints 1.5 %) as the
defaults; admins change them with ``PUT /api/metrics/targets``. The weekly
report of each ISO week is kept as sent (``/dashboard/reports/<week>``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the values of its day.
DEFAULTS = {
    "bot_first_response_s": 10.0,
    "human_first_response_s": 30.0,
    "resolution_rate": 0.90,
    "first_contact_resolution_rate": 0.92,
    "csat_satisfied_rate": 0.85,
    "complaint_rate": 0.015,
}


def upgrade() -> None:
    table = op.create_table(
        "metric_targets",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {"key": k, "value": v, "updated_at": now, "updated_by": None}
            for k, v in DEFAULTS.items()
        ],
    )

    op.create_table(
        "weekly_reports",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("week"),
    )


def downgrade() -> None:
    op.drop_table("weekly_reports")
    op.drop_table("metric_targets")
