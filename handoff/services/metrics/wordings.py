"""``misunderstood`` and ``out-of-scope``: what customers wrote that the bot could not
help with, grouped by wording (lower case, trimmed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Flag, Message, MessageRole
from handoff.services.metrics.filters import MetricsFilter, local_time
from handoff.services.metrics.sessions import (
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    messages_filter,
)
from handoff.services.privacy.mask import mask_text

Rows = list[dict[str, Any]]
TOP_MISUNDERSTOOD = 20


def _customer(where: MetricsFilter) -> list[ColumnElement[bool]]:
    return [Message.role == MessageRole.CUSTOMER, *messages_filter(where)]


async def misunderstood(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Customer messages the bot fell back on, agents flagged or read as out of scope,
    grouped by wording; wordings that were only out of scope rank below the others."""
    flagged = select(Flag.customer_message_id).where(Flag.customer_message_id.is_not(None))
    wording = func.lower(func.trim(Message.text))
    count = func.count(Message.id)
    outside = func.sum(case((Message.intent == OUT_OF_SCOPE_INTENT, 1), else_=0))
    found = await session.execute(
        select(
            wording.label("text"),
            count,
            func.sum(case((Message.id.in_(flagged), 1), else_=0)),
            outside,
            func.max(Message.created_at),
        )
        .where(
            *_customer(where),
            Message.text.is_not(None),
            or_(
                Message.intent.in_((FALLBACK_INTENT, OUT_OF_SCOPE_INTENT)),
                Message.id.in_(flagged),
            ),
        )
        .group_by(wording)
        .order_by(case((outside == count, 1), else_=0), count.desc(), wording)
        .limit(TOP_MISUNDERSTOOD)
    )
    return [
        {
            "text": mask_text(text),
            "messages": n,
            "flagged": int(f or 0),
            "out_of_scope": int(o or 0),
            "last_seen": local_time(last, where),
        }
        for text, n, f, o, last in found
    ]


async def out_of_scope(session: AsyncSession, where: MetricsFilter) -> Rows:
    """The most frequent wordings the bot read as out of scope: what to teach next."""
    wording = func.lower(func.trim(Message.text))
    count = func.count(Message.id)
    found = await session.execute(
        select(wording.label("text"), count, func.max(Message.created_at))
        .where(*_customer(where), Message.text.is_not(None), Message.intent == OUT_OF_SCOPE_INTENT)
        .group_by(wording)
        .order_by(count.desc(), wording)
        .limit(TOP_MISUNDERSTOOD)
    )
    return [
        {"text": mask_text(text), "messages": n, "last_seen": local_time(last, where)}
        for text, n, last in found
    ]
