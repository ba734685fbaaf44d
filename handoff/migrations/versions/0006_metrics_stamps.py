"""Metrics stamps on customer turns, and range indexes for the dashboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 22:10:00

The dashboard rebuilt sessions and the bot's response times with window
functions over every message on every request (24 s for 30 days over
1,000,000 messages). Ingest now stamps each customer turn once
(``handoff/services/metrics/stamps.py``): ``session_start``, the same
conversation's ``next_session_at``/``next_session_ts`` (on session starts) and
``response_ms`` (when the bot's turn came next). This revision adds the
columns, fills them for the rows already stored with the same window
functions, once, and adds the indexes the metrics' range scans use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SESSION_GAP_S = 3600.0  # handoff.services.metrics.stamps.SESSION_GAP_S, frozen here

# UPDATE … FROM works on PostgreSQL and on SQLite ≥ 3.33.
BACKFILL = (
    # A customer turn starts a session when the same conversation's previous
    # customer turn is more than the gap earlier (or there is none).
    f"""
    UPDATE messages SET session_start = turns.is_start
    FROM (
        SELECT id,
               CASE WHEN previous_ts IS NULL OR rasa_ts - previous_ts > {SESSION_GAP_S}
                    THEN true ELSE false END AS is_start
        FROM (
            SELECT id, rasa_ts,
                   lag(rasa_ts) OVER (PARTITION BY conversation_id ORDER BY rasa_ts)
                       AS previous_ts
            FROM messages
            WHERE role = 'customer' AND rasa_ts IS NOT NULL
        ) AS ordered
    ) AS turns
    WHERE messages.id = turns.id
    """,
    # Each session start learns when the conversation's next session starts.
    """
    UPDATE messages SET next_session_at = starts.next_at, next_session_ts = starts.next_ts
    FROM (
        SELECT id,
               lead(created_at) OVER (PARTITION BY conversation_id ORDER BY rasa_ts) AS next_at,
               lead(rasa_ts) OVER (PARTITION BY conversation_id ORDER BY rasa_ts) AS next_ts
        FROM messages
        WHERE session_start
    ) AS starts
    WHERE messages.id = starts.id AND starts.next_ts IS NOT NULL
    """,
    # A customer turn answered by the bot's next turn: the milliseconds between.
    """
    UPDATE messages SET response_ms = (turns.next_ts - turns.rasa_ts) * 1000.0
    FROM (
        SELECT id, role, rasa_ts,
               lead(role) OVER (PARTITION BY conversation_id ORDER BY rasa_ts) AS next_role,
               lead(rasa_ts) OVER (PARTITION BY conversation_id ORDER BY rasa_ts) AS next_ts
        FROM messages
        WHERE role IN ('customer', 'bot') AND rasa_ts IS NOT NULL
    ) AS turns
    WHERE messages.id = turns.id AND turns.role = 'customer' AND turns.next_role = 'bot'
    """,
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("session_start", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("next_session_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_session_ts", sa.Float(), nullable=True))
        batch.add_column(sa.Column("response_ms", sa.Float(), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)
    with op.batch_alter_table("messages") as batch:
        batch.create_index("ix_messages_created", ["created_at"], unique=False)
        batch.create_index(
            "ix_messages_session_starts",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text("session_start"),
            sqlite_where=sa.text("session_start"),
        )
    with op.batch_alter_table("handoff_records") as batch:
        batch.create_index("ix_handoff_records_started", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_records") as batch:
        batch.drop_index("ix_handoff_records_started")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_session_starts")
        batch.drop_index("ix_messages_created")
        batch.drop_column("response_ms")
        batch.drop_column("next_session_ts")
        batch.drop_column("next_session_at")
        batch.drop_column("session_start")
