"""Schema: ``annotation_items`` and ``annotation_history`` — the trainers' queue.

- ``annotation_items``: customer messages the bot may have misunderstood
  (``message_id`` unique), grouped by similar wording (``group_id``), with the
  bot's top two intents, why each was queued, and the trainer's label.
  Indexes: ``(status, group_id)``, ``normalized``, ``conversation_id``.
- ``annotation_history``: one row per trainer action on a group, with what it
  replaced, for undo. Index: ``group_id``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handoff.models.agents import Agent
from handoff.models.base import Base, string_enum, utcnow


class AnnotationStatus(enum.StrEnum):
    """Where a message stands in the trainers' queue."""

    NEW = "new"
    LABELLED = "labelled"
    IGNORED = "ignored"


class AnnotationItem(Base):
    """A customer message the bot may have misunderstood, waiting for a trainer's label.

    Items whose normalised wording is the same or similar share a ``group_id``
    (the id of the group's first item); trainers label a group at once.
    """

    __tablename__ = "annotation_items"
    __table_args__ = (
        Index("ix_annotation_items_status_group", "status", "group_id"),
        Index("ix_annotation_items_normalized", "normalized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(512))
    predicted_intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    intent_2: Mapped[str | None] = mapped_column(String(128))
    confidence_2: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    agent_intent: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[AnnotationStatus] = mapped_column(
        string_enum(AnnotationStatus, "annotation_status"), default=AnnotationStatus.NEW
    )
    label_intent: Mapped[str | None] = mapped_column(String(128))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    labelled_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    labelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    labeller: Mapped[Agent | None] = relationship(lazy="joined")


class AnnotationHistory(Base):
    """One trainer action on a group (label or ignore), with what it replaced, for undo."""

    __tablename__ = "annotation_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))  # label | ignore
    intent: Mapped[str | None] = mapped_column(String(128))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    text: Mapped[str | None] = mapped_column(Text)
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    previous: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    agent: Mapped[Agent | None] = relationship(lazy="joined", foreign_keys=[agent_id])
