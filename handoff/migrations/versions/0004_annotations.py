"""The trainers' queue: annotation items and the label history (for undo)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=512), nullable=False),
        sa.Column("predicted_intent", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("intent_2", sa.String(length=128), nullable=True),
        sa.Column("confidence_2", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("agent_intent", sa.String(length=128), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "labelled",
                "ignored",
                name="annotation_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("label_intent", sa.String(length=128), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("labelled_by", sa.Integer(), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["labelled_by"], ["agents.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("annotation_items") as batch:
        batch.create_index("ix_annotation_items_conversation_id", ["conversation_id"], unique=False)
        batch.create_index("ix_annotation_items_normalized", ["normalized"], unique=False)
        batch.create_index("ix_annotation_items_status_group", ["status", "group_id"], unique=False)
    op.create_table(
        "annotation_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["undone_by"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("annotation_history") as batch:
        batch.create_index("ix_annotation_history_group_id", ["group_id"], unique=False)


def downgrade() -> None:
    op.drop_table("annotation_history")
    op.drop_table("annotation_items")
