"""Schema: ``after_sales_cases`` — refunds, returns, exchanges and repairs the bot opened.

Key ``case_id`` (the shop's case number); ``conversation_id`` → ``conversations``;
``case_type``, ``order_id``, ``opened_at``. Index: ``(opened_at, case_type)``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base


class AfterSalesCase(Base):
    """An after-sales case (refund, return, exchange, repair) the bot opened at the shop.

    Learned from the ``case_opened`` slot the assistant sets when the shop
    accepts a case; ``opened_at`` is that event's Rasa timestamp.
    """

    __tablename__ = "after_sales_cases"
    __table_args__ = (Index("ix_after_sales_cases_opened", "opened_at", "case_type"),)

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    case_type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime]
