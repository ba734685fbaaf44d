"""``complaints`` (per local day and channel) and ``complaint-conversations`` (drill-down)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.services.metrics.filters import MetricsFilter, local_time
from handoff.services.metrics.kpis import complaint
from handoff.services.metrics.sessions import sessions
from handoff.services.metrics.sql import dialect, local_day

Rows = list[dict[str, Any]]
DRILL_DOWN_LIMIT = 200


async def complaints_by_day(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Conversations and complaints per local day and channel (zeros filled in)."""
    rows = sessions(where, with_channel=True)
    day = local_day(dialect(session), rows.c.started_at, where)
    found = await session.execute(
        select(
            day.label("day"),
            rows.c.channel,
            func.count(),
            func.sum(case((complaint(rows, where), 1), else_=0)),
        ).group_by(day, rows.c.channel)
    )
    cells = {(str(d), ch): (int(n), int(c or 0)) for d, ch, n, c in found}
    channels = sorted({ch for _, ch in cells})
    out: Rows = []
    for d in where.days():
        for ch in channels:
            n, c = cells.get((d.isoformat(), ch), (0, 0))
            out.append(
                {
                    "day": d.isoformat(),
                    "channel": ch,
                    "conversations": n,
                    "complaints": c,
                    "rate": round(c / n, 4) if n else None,
                }
            )
    return out


async def complaint_conversations(session: AsyncSession, where: MetricsFilter) -> Rows:
    """The conversations counted as complaints, newest first (the inbox opens each)."""
    rows = sessions(where, with_channel=True)
    found = await session.execute(
        select(rows.c.conversation_id, rows.c.channel, rows.c.started_at, rows.c.episodes)
        .where(complaint(rows, where))
        .order_by(rows.c.started_at.desc())
        .limit(DRILL_DOWN_LIMIT)
    )
    return [
        {
            "conversation_id": cid,
            "channel": channel,
            "started_at": local_time(started, where),
            "handed_off": bool(episodes),
        }
        for cid, channel, started, episodes in found
    ]
