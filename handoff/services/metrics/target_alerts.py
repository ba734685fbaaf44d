"""Alerts against the KPI targets: raised once when a figure misses its target over the
trailing hours (``HANDOFF_TARGET_ALERT_H``), cleared when it is back within target.

The alert stays a row of ``raised_alerts`` (kind ``target_missed``, subject the
target's key) while the target is missed, so each replica's sweep raises it once;
clearing deletes the row, so a later miss is a new alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import RaisedAlert, utcnow
from handoff.services.metrics import targets
from handoff.services.metrics.filters import MetricsFilter
from handoff.services.metrics.sql import dialect
from handoff.services.metrics.summary import summary
from handoff.services.views import aware

KIND = "target_missed"


async def current(session: AsyncSession) -> list[dict[str, Any]]:
    """The target alerts standing now (raised, not cleared), in the targets' order."""
    rows = {
        subject: details
        for subject, details in await session.execute(
            select(RaisedAlert.subject, RaisedAlert.details).where(RaisedAlert.kind == KIND)
        )
    }
    return [rows[key] for key in targets.TARGETS if key in rows]


async def sweep(
    session: AsyncSession, *, timezone: str, hours: float, now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Judges the trailing ``hours``; returns the alerts newly raised and those cleared.

    A target without a figure in the window (no conversation, no rating) keeps its state.
    """
    now = aware(now or utcnow())
    zone = ZoneInfo(timezone)
    window = MetricsFilter.between(now - timedelta(hours=hours), now, zone)
    figures = await summary(session, window)
    goals = await targets.current(session)
    upsert = sqlite_insert if dialect(session) == "sqlite" else postgresql_insert
    raised: list[dict[str, Any]] = []
    cleared: list[dict[str, Any]] = []
    for key, target in targets.TARGETS.items():
        value = figures.get(target.metric)
        met = targets.judge(target, value, goals[key])
        if met is None:
            continue
        alert = {
            "kind": KIND,
            "target": key,
            "name": target.title,
            "value": value,
            "goal": goals[key],
            "unit": target.unit,
            "direction": target.direction,
            "hours": hours,
            "since": now.isoformat(),
            "since_local": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        }
        if met:
            gone = await session.execute(
                delete(RaisedAlert)
                .where(RaisedAlert.kind == KIND, RaisedAlert.subject == key)
                .returning(RaisedAlert.details)
            )
            for (details,) in gone:
                cleared.append({**details, "value": value, "goal": goals[key]})
            continue
        statement = (
            upsert(RaisedAlert)
            .values(kind=KIND, subject=key, details=alert, raised_at=now)
            .on_conflict_do_nothing(index_elements=["kind", "subject"])
            .returning(RaisedAlert.kind)
        )
        if (await session.execute(statement)).first() is not None:
            raised.append(alert)
    return raised, cleared
