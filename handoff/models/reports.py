"""Schema: ``weekly_reports`` — the week against its targets, kept as it was sent.

Key ``week`` (ISO week, ``2026-W49``); ``html`` (the page), ``csv``; ``figures``
(JSON, what both were made from); ``created_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class WeeklyReport(Base):
    """One week's report (made on schedule or by ``python -m handoff report``)."""

    __tablename__ = "weekly_reports"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    csv: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
