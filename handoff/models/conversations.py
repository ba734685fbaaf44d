"""Schema: ``conversations`` and ``handoff_records`` — a customer's conversation and its episodes.

- ``conversations``: key ``id`` (the Rasa conversation id, ``<channel>:<id>``);
  status, reason, team, urgency and assignee of the current episode; the
  context ``action_handoff`` sent (slots, intents, after-sales cases); the
  waiting, assignment, first-response, resolve and CSAT times; unread count;
  ``erased_at`` (the customer's words were erased; the id is then random).
  Indexes: ``(status, waiting_since)``, ``last_activity_at``, ``assignee_id``.
- ``handoff_records``: one row per episode in human hands (hand-off to resolve
  or hand-back), for the metrics. Indexes: ``started_at``, ``conversation_id``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handoff.models.agents import Agent
from handoff.models.base import Base, string_enum, utcnow


class ConversationStatus(enum.StrEnum):
    """Who the people see as holding the conversation (the tracker decides who talks)."""

    BOT = "bot"
    PENDING = "pending"
    OPEN = "open"
    RESOLVED = "resolved"


class Conversation(Base):
    """One customer's conversation, keyed by the Rasa conversation id."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_waiting", "status", "waiting_since"),
        Index("ix_conversations_last_activity", "last_activity_at"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[ConversationStatus] = mapped_column(
        string_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.BOT
    )
    reason: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    waiting_since: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_s: Mapped[float | None] = mapped_column(Float)
    wait_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    csat_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    csat_awaiting_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    csat_requested_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the customer's words were erased (the row stays, under a random id,
    # for the metrics): handoff/services/customers/erase.py.
    erased_at: Mapped[datetime | None]

    assignee: Mapped[Agent | None] = relationship(lazy="joined")


class HandoffRecord(Base):
    """One episode of a conversation in human hands, from hand-off to resolve or hand-back."""

    __tablename__ = "handoff_records"
    __table_args__ = (Index("ix_handoff_records_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    first_response_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # resolved | handed_back
