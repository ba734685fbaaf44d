"""Message counts from the ``message_counts`` rollup, when a filter allows it.

The rollup has one row per quarter hour (UTC), channel, role and intent, so a
month is a few thousand rows instead of a million messages. It answers filters
by date range and channel; the team filter (conversations handed to a team)
needs the messages themselves, and so does a range whose edges are not on a
quarter hour (no real time zone has such midnights).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from handoff.models import BUCKET_S, MessageCount
from handoff.services.metrics.filters import MetricsFilter


def _on_edge(moment: datetime) -> bool:
    return moment.timestamp() % BUCKET_S == 0


def usable(where: MetricsFilter) -> bool:
    """Whether the rollup answers ``where`` exactly."""
    return where.team is None and _on_edge(where.start) and _on_edge(where.end)


def conditions(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`MessageCount` for the range and channel of ``where``."""
    found: list[ColumnElement[bool]] = [
        MessageCount.bucket_start >= where.start,
        MessageCount.bucket_start < where.end,
    ]
    if where.channel:
        found.append(MessageCount.channel == where.channel)
    return found
