"""Schema: ``csat_ratings`` — the customer's 1–5 rating (and comment) after an episode.

Key ``id``; ``conversation_id`` → ``conversations``; ``handoff_id`` →
``handoff_records``; ``agent_id`` → ``agents``; ``rating``, ``comment``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class CsatRating(Base):
    """A customer's 1–5 rating after a resolved episode."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_records.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
