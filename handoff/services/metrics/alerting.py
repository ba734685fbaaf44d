"""Raising the dashboard's alerts once: the sweep posts each new one to the live inbox,
the dashboard and Slack (an ``alert.raised`` event), whichever replica sees it first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Conversation, RaisedAlert, utcnow
from handoff.services.metrics import target_alerts
from handoff.services.metrics.filters import MetricsFilter, parse_filter
from handoff.services.metrics.live import alerts
from handoff.services.metrics.sql import dialect
from handoff.services.views import aware


def today(timezone: str, now: datetime) -> MetricsFilter:
    """The local day of ``now`` in the shop's time zone, as a filter."""
    zone = parse_filter(timezone=timezone).zone
    day = aware(now).astimezone(zone).date()
    return MetricsFilter(day, day, zone)


def subject(alert: dict[str, Any], day: MetricsFilter, waiting_since: datetime | None) -> str:
    """What makes an alert the same one on the next sweep."""
    if alert["kind"] == "long_wait":
        since = aware(waiting_since).isoformat() if waiting_since else ""
        return f"{alert['conversation_id']}@{since}"
    return day.first_day.isoformat()


async def raise_new(
    session: AsyncSession,
    *,
    wait_alert_s: int,
    timezone: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The alerts of the moment not raised before; records them as raised.

    A conversation waiting again after a hand-back is a new occurrence; a jump of
    the fallback rate is raised once per local day.
    """
    now = now or utcnow()
    day = today(timezone, now)
    found = await alerts(session, wait_alert_s=wait_alert_s, today=day, now=now)
    ids = [alert["conversation_id"] for alert in found if alert["kind"] == "long_wait"]
    waiting_since: dict[str, datetime | None] = {}
    if ids:
        rows = await session.execute(
            select(Conversation.id, Conversation.waiting_since).where(Conversation.id.in_(ids))
        )
        waiting_since = {cid: since for cid, since in rows}
    upsert = sqlite_insert if dialect(session) == "sqlite" else postgresql_insert
    fresh: list[dict[str, Any]] = []
    for alert in found:
        if alert["kind"] == target_alerts.KIND:
            continue  # raised and cleared by target_alerts.sweep
        key = subject(alert, day, waiting_since.get(alert.get("conversation_id", "")))
        statement = (
            upsert(RaisedAlert)
            .values(kind=alert["kind"], subject=key, details=alert, raised_at=now)
            .on_conflict_do_nothing(index_elements=["kind", "subject"])
            .returning(RaisedAlert.kind)
        )
        # A row back: this sweep stored it first (rowcount is not reliable across drivers).
        if (await session.execute(statement)).first() is not None:
            fresh.append(alert)
    return fresh
