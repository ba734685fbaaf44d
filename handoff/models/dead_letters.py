"""Schema: ``dead_letters`` — input from the Rasa side the service refused to store.

Key ``id``; ``kind`` (``event`` or ``handoff``); ``conversation_id`` (as sent,
escaped when it is not storable text); ``reason``; ``payload`` (the refused
JSON with every non-ASCII character escaped, so NUL and lone surrogates are
kept as ``\\u0000`` text); ``received_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class DeadLetter(Base):
    """One refused event or hand-off, kept with the reason for admins to look at."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_received", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
