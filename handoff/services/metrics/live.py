"""The dashboard's live strip and its alerts (long waits, a jump of the fallback rate)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Conversation, ConversationStatus, utcnow
from handoff.services.metrics import target_alerts
from handoff.services.metrics.filters import MetricsFilter
from handoff.services.metrics.summary import message_counts
from handoff.services.views import aware

BASELINE_DAYS = 7
# A jump: today's rate is at least this many times the baseline and this much higher.
JUMP_FACTOR = 2.0
JUMP_MIN_DELTA = 0.1
JUMP_MIN_MESSAGES = 20


async def live_strip(session: AsyncSession, *, now: datetime | None = None) -> dict[str, Any]:
    """Conversations waiting now, the longest wait in seconds, agents online."""
    now = now or utcnow()
    waiting, oldest = (
        await session.execute(
            select(func.count(Conversation.id), func.min(Conversation.waiting_since)).where(
                Conversation.status == ConversationStatus.PENDING
            )
        )
    ).one()
    online = await session.scalar(select(func.count(Agent.id)).where(Agent.online.is_(True)))
    longest = 0.0 if oldest is None else max(0.0, (now - aware(oldest)).total_seconds())
    return {"waiting": waiting, "longest_wait_s": round(longest), "agents_online": online or 0}


async def alerts(
    session: AsyncSession, *, wait_alert_s: int, today: MetricsFilter, now: datetime | None = None
) -> list[dict[str, Any]]:
    """What a manager should look at now.

    ``{"kind": "long_wait", "conversation_id", "wait_s"}`` for each conversation
    waiting longer than ``wait_alert_s``; ``{"kind": "fallback_jump", "rate",
    "baseline"}`` when today's fallback rate (``today`` filter) jumped against the
    previous days'; ``{"kind": "target_missed", "target", "value", "goal", ...}`` for
    each KPI target missed over the trailing hours (raised by the sweep, not yet cleared).
    """
    now = now or utcnow()
    found: list[dict[str, Any]] = []
    waiting = await session.execute(
        select(Conversation.id, Conversation.waiting_since)
        .where(
            Conversation.status == ConversationStatus.PENDING,
            Conversation.waiting_since < now - timedelta(seconds=wait_alert_s),
        )
        .order_by(Conversation.waiting_since)
    )
    for cid, since in waiting:
        if since is None:
            continue
        wait = round((now - aware(since)).total_seconds())
        found.append({"kind": "long_wait", "conversation_id": cid, "wait_s": wait})
    current = await message_counts(session, today)
    before = MetricsFilter(
        today.first_day - timedelta(days=BASELINE_DAYS),
        today.first_day - timedelta(days=1),
        today.zone,
        today.channel,
        today.team,
    )
    baseline = await message_counts(session, before)
    if current["classified"] >= JUMP_MIN_MESSAGES and baseline["classified"]:
        rate = current["fallbacks"] / current["classified"]
        usual = baseline["fallbacks"] / baseline["classified"]
        if rate >= usual * JUMP_FACTOR and rate - usual >= JUMP_MIN_DELTA:
            found.append(
                {"kind": "fallback_jump", "rate": round(rate, 4), "baseline": round(usual, 4)}
            )
    found.extend(await target_alerts.current(session))
    return found
