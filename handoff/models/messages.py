"""Schema: ``messages`` — every turn of a conversation, and the audit trail.

Key ``id``; ``conversation_id`` → ``conversations``; ``role`` (customer, bot,
agent, activity); text, agent, private flag, top two intents with confidence,
buttons, the Rasa event timestamp ``rasa_ts`` (unique per conversation and
role), delivery state and error, the activity line's kind and parameters, and
the metrics stamps set at ingest (session start, next session, bot response
time). Indexes are listed in ``__table_args__`` with why each exists.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handoff.models.agents import Agent
from handoff.models.base import Base, string_enum, utcnow


class MessageRole(enum.StrEnum):
    """Who wrote a message; activity messages are the audit trail."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    ACTIVITY = "activity"


class Message(Base):
    """One turn: customer, bot, agent, or an activity line of the audit trail."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "rasa_ts", "role", name="uq_messages_rasa_event"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        # The newest message of a conversation (inbox list): one backward index scan.
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        # Metrics: the messages of a date range, the sessions started in it, the bot's
        # response times — each read from the index alone (no table rows).
        Index("ix_messages_created_role_intent", "created_at", "role", "intent"),
        Index(
            "ix_messages_session_starts",
            "created_at",
            "id",
            "rasa_ts",
            "next_session_ts",
            postgresql_where=text("session_start"),
            sqlite_where=text("session_start"),
        ),
        # A hand-off's session: the conversation's latest session start before it.
        Index(
            "ix_messages_session_owner",
            "conversation_id",
            "created_at",
            "id",
            postgresql_where=text("session_start"),
            sqlite_where=text("session_start"),
        ),
        Index(
            "ix_messages_response_ms",
            "created_at",
            "response_ms",
            postgresql_where=text("response_ms IS NOT NULL"),
            sqlite_where=text("response_ms IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    role: Mapped[MessageRole] = mapped_column(string_enum(MessageRole, "message_role"))
    text: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    intent_2: Mapped[str | None] = mapped_column(String(128))
    confidence_2: Mapped[float | None] = mapped_column(Float)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    rasa_ts: Mapped[float | None] = mapped_column(Float)
    delivery: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    # Activity lines: {"kind": "claimed", "agent": "alice", ...} for the inbox to translate.
    activity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Stamped at ingest on customer turns (handoff/services/metrics/stamps.py), so the
    # metrics need no window functions: does this turn start a session, when does the
    # same conversation's next session start, how fast did the bot answer it.
    session_start: Mapped[bool | None] = mapped_column(Boolean)
    next_session_at: Mapped[datetime | None]
    next_session_ts: Mapped[float | None] = mapped_column(Float)
    response_ms: Mapped[float | None] = mapped_column(Float)

    agent: Mapped[Agent | None] = relationship(lazy="joined")
