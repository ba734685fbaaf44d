"""The weekly report: an ISO week (Monday–Sunday, the shop's time zone) against the
targets, with the week before as the trend, the top misunderstood wordings, the top
hand-off reasons, negative CSAT comments and the agents' figures.

Kept in ``weekly_reports`` as sent (HTML and CSV, :mod:`.report_render`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import WeeklyReport, utcnow
from handoff.services.metrics.filters import MetricsFilter, MetricsInputError
from handoff.services.metrics.report_render import render_csv, render_html
from handoff.services.metrics.scorecard import scorecard
from handoff.services.metrics.sql import analytic
from handoff.services.metrics.tables import agents, csat_comments, handoff_reasons
from handoff.services.metrics.wordings import misunderstood

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
TOP = 5
NEGATIVE = 2  # ratings of 1–2 stars


def parse_week(week: str) -> date:
    """The Monday of an ISO week ``YYYY-Www``.

    Raises:
        MetricsInputError: not such a week.
    """
    found = WEEK.match(week or "")
    if not found:
        raise MetricsInputError(f"a week is written like 2026-W49, not {week!r}")
    try:
        return date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise MetricsInputError(f"{week} is not a week of its year") from None


def week_of(day: date) -> str:
    """``2026-W49`` for any day of that ISO week."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


async def figures(session: AsyncSession, week: str, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the report shows, as plain values."""
    monday = parse_week(week)
    where = MetricsFilter(monday, monday + timedelta(days=6), zone)
    await analytic(session)
    card = await scorecard(session, where)
    comments = await csat_comments(session, where)
    return {
        "week": week,
        "from": card["from"],
        "to": card["to"],
        "timezone": zone.key,
        "previous_period": card["previous_period"],
        "summary": {k: v for k, v in card.items() if k not in ("targets", "previous_period")},
        "targets": card["targets"],
        "misunderstood": (await misunderstood(session, where))[:TOP],
        "handoff_reasons": (await handoff_reasons(session, where))[:TOP],
        "negative_comments": [c for c in comments if (c["rating"] or 0) <= NEGATIVE],
        "agents": await agents(session, where),
    }


async def make(session: AsyncSession, week: str, zone: ZoneInfo) -> WeeklyReport:
    """Builds the week's report and keeps it (a second run replaces the first)."""
    found = await figures(session, week, zone)
    report = await session.get(WeeklyReport, week)
    if report is None:
        report = WeeklyReport(week=week)
        session.add(report)
    report.figures = found
    report.html = render_html(found)
    report.csv = render_csv(found)
    report.created_at = utcnow()
    await session.commit()
    return report


async def find(session: AsyncSession, week: str) -> WeeklyReport | None:
    """A kept report, if any (``week`` checked first)."""
    parse_week(week)
    return await session.get(WeeklyReport, week)


async def listed(session: AsyncSession) -> list[dict[str, Any]]:
    """The kept reports, newest week first."""
    rows = await session.execute(
        select(WeeklyReport.week, WeeklyReport.created_at).order_by(WeeklyReport.week.desc())
    )
    return [{"week": week, "created_at": at.isoformat()} for week, at in rows]


def due(now: datetime, zone: ZoneInfo, *, weekday: int, hour: int) -> str | None:
    """The week whose report is due at ``now``: last week, once this week's ``weekday``
    (0 = Monday) and ``hour`` have passed in the shop's time zone; else ``None``."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(monday + timedelta(days=weekday), datetime.min.time(), zone)
    if local < moment + timedelta(hours=hour):
        return None
    return week_of(monday - timedelta(days=7))
