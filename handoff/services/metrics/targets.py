"""KPI targets: defaults from the seeds, overrides kept in ``metric_targets``.

Each target names the summary figure it judges, whether the figure must stay at
most (``max``) or at least (``min``) the target, and its unit: ``rate`` (0–1,
as the summary reports rates) or ``s`` (seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import InvalidInput
from handoff.models import MetricTarget, utcnow

MAX_SECONDS = 86400.0


@dataclass(frozen=True)
class Target:
    """One KPI target.

    Attributes:
        key: the target's name (``GET/PUT /api/metrics/targets``).
        metric: the summary figure it judges.
        direction: ``max`` (the figure must not exceed the target) or ``min``.
        unit: ``rate`` (0–1) or ``s`` (seconds).
        default: the seeds' number.
        title: its name in English (Slack, the weekly report).
    """

    key: str
    metric: str
    direction: str
    unit: str
    default: float
    title: str


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "bot_first_response_s",
            "bot_first_response_s_p50",
            "max",
            "s",
            10.0,
            "Bot first response (median)",
        ),
        Target(
            "human_first_response_s",
            "human_first_response_s_p50",
            "max",
            "s",
            30.0,
            "Agent first response (median)",
        ),
        Target("resolution_rate", "resolution_rate", "min", "rate", 0.90, "Resolution rate"),
        Target(
            "first_contact_resolution_rate",
            "first_contact_resolution_rate",
            "min",
            "rate",
            0.92,
            "First-contact resolution",
        ),
        Target(
            "csat_satisfied_rate", "csat_satisfied_rate", "min", "rate", 0.85, "Satisfied (4–5 ★)"
        ),
        Target("complaint_rate", "complaint_rate", "max", "rate", 0.015, "Complaint rate"),
    )
}


class TargetError(InvalidInput):
    """An unknown target, or a value out of its range."""


def check(values: Any) -> dict[str, float]:
    """Validates a ``PUT`` body: ``{key: number}``, rates 0–1, seconds over 0 up to a day.

    Raises:
        TargetError: not an object, an unknown key, a value not a number or out of range.
    """
    if not isinstance(values, dict) or not values:
        raise TargetError('send an object of targets, e.g. {"complaint_rate": 0.015}')
    found: dict[str, float] = {}
    for key, value in values.items():
        target = TARGETS.get(key)
        if target is None:
            raise TargetError(f"unknown target {key!r}; targets: " + ", ".join(TARGETS))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TargetError(f"{key} must be a number")
        number = float(value)
        if not math.isfinite(number):
            raise TargetError(f"{key} must be a finite number")
        if target.unit == "rate" and not 0.0 <= number <= 1.0:
            raise TargetError(f"{key} is a rate between 0 and 1 (0 % – 100 %)")
        if target.unit == "s" and not 0.0 < number <= MAX_SECONDS:
            raise TargetError(f"{key} is a number of seconds over 0, at most {MAX_SECONDS:.0f}")
        found[key] = number
    return found


async def current(session: AsyncSession) -> dict[str, float]:
    """Every target: the stored value, else the default."""
    stored = {
        key: value
        for key, value in await session.execute(select(MetricTarget.key, MetricTarget.value))
    }
    return {key: float(stored.get(key, t.default)) for key, t in TARGETS.items()}


async def update(session: AsyncSession, values: Any, *, by: str) -> dict[str, float]:
    """Validates every value first, then stores them all (nothing changes on a bad one)."""
    checked = check(values)
    for key, value in checked.items():
        row = await session.get(MetricTarget, key)
        if row is None:
            session.add(MetricTarget(key=key, value=value, updated_by=by, updated_at=utcnow()))
        else:
            row.value, row.updated_by, row.updated_at = value, by, utcnow()
    await session.commit()
    return await current(session)


def describe() -> dict[str, dict[str, Any]]:
    """What each target judges, for the page and the API."""
    return {
        key: {
            "metric": t.metric,
            "direction": t.direction,
            "unit": t.unit,
            "default": t.default,
            "title": t.title,
        }
        for key, t in TARGETS.items()
    }


def judge(target: Target, value: float | None, goal: float) -> bool | None:
    """Whether ``value`` meets ``goal`` (``None`` when there is no figure)."""
    if value is None:
        return None
    return value <= goal if target.direction == "max" else value >= goal
