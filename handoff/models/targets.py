"""Schema: ``metric_targets`` — the KPI targets a manager holds the service to.

Key ``key`` (one of ``handoff.services.metrics.targets.TARGETS``); ``value``
(a rate 0–1 or seconds); ``updated_at``; ``updated_by`` (the admin's username,
``None`` for the defaults migration 0013 wrote).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class MetricTarget(Base):
    """One KPI target (the defaults are the seeds' numbers)."""

    __tablename__ = "metric_targets"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
