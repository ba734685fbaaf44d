"""Schema: ``message_counts`` — the metrics' roll-up of messages per quarter hour.

Key ``(bucket_start, channel, role, intent)`` (intent ``""`` for none); the
number of messages and the sum and count of their intent confidences. Kept by
:func:`handoff.services.metrics.rollup.count_message` as each message is
inserted; migration 0006 filled it for older rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base

BUCKET_S = 900


def bucket_of(moment: datetime) -> datetime:
    """The start of the quarter hour (UTC) holding ``moment``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


class MessageCount(Base):
    """Messages per quarter hour (UTC), channel, role and intent: the metrics' rollup.

    Activity lines are not messages here. Quarter hours, so every real time
    zone's local midnights and hours fall on bucket edges.
    """

    __tablename__ = "message_counts"

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    intent: Mapped[str] = mapped_column(String(128), primary_key=True)  # "" for none
    messages: Mapped[int] = mapped_column(Integer, default=0)
    confidence_sum: Mapped[float] = mapped_column(Float, default=0.0)
    confidence_count: Mapped[int] = mapped_column(Integer, default=0)
