"""The summary judged against the targets, with the previous period's figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.services.metrics import targets
from handoff.services.metrics.filters import MetricsFilter
from handoff.services.metrics.summary import summary


def judged(
    now: dict[str, Any], before: dict[str, Any], goals: dict[str, float]
) -> list[dict[str, Any]]:
    """One card per target: figure, target, met, the previous period's figure and the change.

    ``met`` is ``None`` when the period has no figure (no conversations, no ratings);
    ``change`` is the figure minus the previous one (``None`` when either is missing),
    ``better`` whether that change moves towards the target.
    """
    cards: list[dict[str, Any]] = []
    for key, target in targets.TARGETS.items():
        value, previous = now.get(target.metric), before.get(target.metric)
        change = round(value - previous, 4) if value is not None and previous is not None else None
        better = None
        if change:
            better = change < 0 if target.direction == "max" else change > 0
        cards.append(
            {
                "target": key,
                "metric": target.metric,
                "direction": target.direction,
                "unit": target.unit,
                "value": value,
                "goal": goals[key],
                "met": targets.judge(target, value, goals[key]),
                "previous": previous,
                "change": change,
                "better": better,
            }
        )
    return cards


async def scorecard(session: AsyncSession, where: MetricsFilter) -> dict[str, Any]:
    """The summary of ``where`` with ``targets`` (see :func:`judged`) and ``previous_period``."""
    now = await summary(session, where)
    earlier = where.previous()
    before = await summary(session, earlier)
    goals = await targets.current(session)
    return {
        **now,
        "previous_period": {
            "from": earlier.first_day.isoformat(),
            "to": earlier.last_day.isoformat(),
        },
        "targets": judged(now, before, goals),
    }
