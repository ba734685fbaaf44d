"""Index for each conversation's newest message (inbox list)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 20:50:00

The inbox list shows the newest public message of up to 500 conversations.
With ``(conversation_id, id)`` that is one short backward index scan per
conversation instead of reading every message of every listed conversation
(bench/handoff_latency.py, 10,000 conversations and 1,000,000 messages).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_conversation_id", ["conversation_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_conversation_id")
