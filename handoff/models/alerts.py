"""Schema: ``raised_alerts`` — alerts already posted, so each is raised once.

Key ``(kind, subject)``; ``details`` (JSON), ``raised_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base, utcnow


class RaisedAlert(Base):
    """An alert posted once (Slack, live inbox), whichever replica's sweep saw it first.

    ``subject`` names the occurrence: ``<conversation id>@<waiting since>`` for a
    long wait, the local day for a fallback-rate jump.
    """

    __tablename__ = "raised_alerts"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
