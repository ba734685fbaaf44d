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

It also adds ``message_counts``, messages per quarter hour (UTC), channel, role
and intent, kept by an insert hook on ``Message`` (``handoff/models.py``), and
fills it from the stored messages; and ``raised_alerts``, so each alert (a long
wait, a jump of the fallback rate) is posted once across replicas.
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


_COUNT_COLUMNS = "bucket_start, channel, role, intent, messages, confidence_sum, confidence_count"
_COUNTS = f"""
    INSERT INTO message_counts ({_COUNT_COLUMNS})
    SELECT {{bucket}}, c.channel, m.role, COALESCE(m.intent, ''), COUNT(*),
           COALESCE(SUM(m.confidence), 0), COUNT(m.confidence)
    FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
    WHERE m.role <> 'activity'
    GROUP BY 1, 2, 3, 4
"""
_BUCKET = {
    "postgresql": "date_bin('15 minutes', m.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC here).
    "sqlite": (
        "strftime('%Y-%m-%d %H:', m.created_at)"
        " || printf('%02d', CAST(strftime('%M', m.created_at) AS INTEGER) / 15 * 15)"
        " || ':00.000000'"
    ),
}


def upgrade() -> None:
    op.create_table(
        "message_counts",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=128), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("confidence_sum", sa.Float(), nullable=False),
        sa.Column("confidence_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket_start", "channel", "role", "intent"),
    )
    op.create_table(
        "raised_alerts",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject"),
    )
    bind = op.get_bind()
    # Straight to the driver: the SQLite time format's colons are not bind parameters.
    bind.exec_driver_sql(_COUNTS.format(bucket=_BUCKET[bind.dialect.name]))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("session_start", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("next_session_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_session_ts", sa.Float(), nullable=True))
        batch.add_column(sa.Column("response_ms", sa.Float(), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)
    with op.batch_alter_table("messages") as batch:
        batch.create_index(
            "ix_messages_created_role_intent", ["created_at", "role", "intent"], unique=False
        )
        batch.create_index(
            "ix_messages_session_starts",
            ["created_at", "id", "rasa_ts", "next_session_ts"],
            unique=False,
            postgresql_where=sa.text("session_start"),
            sqlite_where=sa.text("session_start"),
        )
        batch.create_index(
            "ix_messages_session_owner",
            ["conversation_id", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("session_start"),
            sqlite_where=sa.text("session_start"),
        )
        batch.create_index(
            "ix_messages_response_ms",
            ["created_at", "response_ms"],
            unique=False,
            postgresql_where=sa.text("response_ms IS NOT NULL"),
            sqlite_where=sa.text("response_ms IS NOT NULL"),
        )
    with op.batch_alter_table("handoff_records") as batch:
        batch.create_index("ix_handoff_records_started", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_table("raised_alerts")
    op.drop_table("message_counts")
    with op.batch_alter_table("handoff_records") as batch:
        batch.drop_index("ix_handoff_records_started")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_response_ms")
        batch.drop_index("ix_messages_session_owner")
        batch.drop_index("ix_messages_session_starts")
        batch.drop_index("ix_messages_created_role_intent")
        batch.drop_column("response_ms")
        batch.drop_column("next_session_ts")
        batch.drop_column("next_session_at")
        batch.drop_column("session_start")
