"""Schema: ``audit_log`` — access records: who viewed, revealed, exported, erased, changed what.

Key ``id``; ``at`` (UTC); ``actor`` (the account's username, or a job's name
such as ``retention``); ``action`` (``conversation.view``, ``conversation.reveal``,
``agent.create``, ...: see :mod:`handoff.services.audit`); ``conversation_id``
when the action concerns one conversation; ``target`` (another object, e.g. the
account changed); ``address`` (the client's address, when a request did it);
``detail`` (a small JSON object, never customer text).

Rows are only ever added; nothing in the service updates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class AuditRecord(Base):
    """One recorded access or change, with who, when and from where."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_conversation_at", "conversation_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(255))
    target: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
