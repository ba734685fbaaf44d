"""Accounts that can be disabled and signed out everywhere; the database's login limiter

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:00:00

``agents.active`` (disabled accounts cannot sign in) and ``agents.token_version``
(every token and cookie carries it; bumping it ends all of an agent's sessions).
Usernames become unique case-insensitively: this fails on a database that already
holds two accounts differing only in case, which an admin must rename first.
``login_counters`` backs the sign-in limiter when there is no Redis.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index("ux_agents_username_lower", "agents", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "login_counters",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("login_counters")
    op.drop_index("ux_agents_username_lower", table_name="agents")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("token_version")
        batch.drop_column("active")
