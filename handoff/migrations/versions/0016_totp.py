"""TOTP second factor of accounts

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-07 20:40:00

``totp_secret`` is the confirmed authenticator secret (never returned by the API
after enrolment), ``totp_pending`` one shown at enrolment and not yet confirmed
with a code, ``totp_last_step`` the 30-second step of the last accepted code, so a
code is accepted once (no replay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_pending", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_pending")
        batch.drop_column("totp_secret")
