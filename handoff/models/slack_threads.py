"""Schema: ``slack_threads`` — the Slack thread of each conversation's latest handoff.

Key ``conversation_id``; ``(channel, thread_ts)`` unique.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class SlackThread(Base):
    """The Slack thread of a conversation's latest handoff (optional Slack integration)."""

    __tablename__ = "slack_threads"
    __table_args__ = (UniqueConstraint("channel", "thread_ts", name="uq_slack_threads_ts"),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
