"""Queue position, expected wait and business hours, as told to a waiting customer."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Conversation, ConversationStatus, HandoffRecord, Role, utcnow
from handoff.settings import Settings

# Told to customers while too few recent handoffs exist to measure (fewer than
# MIN_SAMPLES assigned in the last SAMPLE_DAYS days): two minutes.
DEFAULT_EXPECTED_WAIT_S = 120
MIN_SAMPLES = 3
SAMPLE_SIZE = 50
SAMPLE_DAYS = 7


@dataclass(frozen=True)
class QueueInfo:
    """What ``POST /api/internal/handoffs`` answers."""

    status: str
    queue_position: int | None
    expected_wait_s: int | None
    agents_online: int
    business_hours_open: bool
    next_open_at: str | None


def business_hours_state(
    settings: Settings, now: datetime | None = None
) -> tuple[bool, str | None]:
    """Whether the team works now, and when it opens next (ISO 8601, local offset) if not."""
    zone = ZoneInfo(settings.handoff_timezone)
    local = (now or utcnow()).astimezone(zone)
    start, end = settings.business_hours
    moment = local.time()
    is_open = start <= moment < end if start < end else (moment >= start or moment < end)
    if is_open:
        return True, None
    opening = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return False, opening.isoformat()


async def queue_position(session: AsyncSession, conversation: Conversation) -> int:
    """1 for the next conversation an agent will get; urgent ones come first."""
    assert conversation.waiting_since is not None
    earlier = Conversation.waiting_since < conversation.waiting_since
    before = (
        and_(Conversation.urgent.is_(True), earlier)
        if conversation.urgent
        else or_(Conversation.urgent.is_(True), earlier)
    )
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.status == ConversationStatus.PENDING,
            Conversation.id != conversation.id,
            before,
        )
    )
    return int(ahead or 0) + 1


async def agents_online(session: AsyncSession) -> int:
    """Agents currently online."""
    count = await session.scalar(
        select(func.count())
        .select_from(Agent)
        .where(Agent.online.is_(True), Agent.role.in_([Role.AGENT, Role.ADMIN]))
    )
    return int(count or 0)


async def median_wait_s(session: AsyncSession) -> float:
    """Median wait of recently assigned handoffs, or the documented default."""
    since = utcnow() - timedelta(days=SAMPLE_DAYS)
    rows = await session.execute(
        select(HandoffRecord.started_at, HandoffRecord.assigned_at)
        .where(HandoffRecord.assigned_at.is_not(None), HandoffRecord.started_at >= since)
        .order_by(HandoffRecord.assigned_at.desc())
        .limit(SAMPLE_SIZE)
    )
    waits = [
        (assigned - started).total_seconds()
        for started, assigned in rows.tuples()
        if assigned is not None
    ]
    if len(waits) < MIN_SAMPLES:
        return float(DEFAULT_EXPECTED_WAIT_S)
    return max(statistics.median(waits), 0.0)


async def queue_info(
    session: AsyncSession, conversation: Conversation, settings: Settings
) -> QueueInfo:
    """Position, expected wait, agents online and business hours for one conversation."""
    is_open, next_open_at = business_hours_state(settings)
    online = await agents_online(session)
    if conversation.status != ConversationStatus.PENDING:
        return QueueInfo(
            conversation.status.value,
            None,
            0 if conversation.status == ConversationStatus.OPEN else None,
            online,
            is_open,
            next_open_at,
        )
    position = await queue_position(session, conversation)
    wait = await median_wait_s(session)
    expected = int(wait * math.ceil(position / max(online, 1)))
    return QueueInfo("pending", position, expected, online, is_open, next_open_at)
