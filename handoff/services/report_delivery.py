"""Making the weekly report and posting it to the Slack channel when Slack is set up.

Used by the sweep (on schedule: ``HANDOFF_REPORT_WEEKDAY`` / ``HANDOFF_REPORT_HOUR``,
the shop's time zone) and by ``python -m handoff report --week 2026-W49``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import WeeklyReport
from handoff.services.metrics import report
from handoff.services.metrics.report_render import slack_text
from handoff.settings import Settings

logger = logging.getLogger(__name__)


def link(week: str) -> str:
    """Where the kept report is read (admins)."""
    return f"/dashboard/reports/{week}"


async def post_to_slack(settings: Settings, kept: WeeklyReport) -> bool:
    """Posts the report's summary to ``SLACK_CHANNEL``; ``False`` when Slack is not set up."""
    if settings.slack_bot_token is None or not settings.slack_channel:
        return False
    token = settings.slack_bot_token.get_secret_value()
    client = (
        AsyncWebClient(token=token, base_url=settings.slack_api_url.rstrip("/") + "/")
        if settings.slack_api_url
        else AsyncWebClient(token=token)
    )
    await client.chat_postMessage(
        channel=settings.slack_channel, text=slack_text(kept.figures, link(kept.week))
    )
    return True


async def make_and_post(session: AsyncSession, settings: Settings, week: str) -> WeeklyReport:
    """Builds (or rebuilds) ``week``'s report, keeps it and posts it to Slack when set up."""
    kept = await report.make(session, week, ZoneInfo(settings.handoff_timezone))
    try:
        await post_to_slack(settings, kept)
    except (SlackApiError, OSError):
        logger.exception("the weekly report %s is kept but could not be posted to Slack", week)
    return kept


async def on_schedule(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> str | None:
    """The sweep's part: last week's report once its day and hour have come; the week made."""
    zone = ZoneInfo(settings.handoff_timezone)
    week = report.due(
        now, zone, weekday=settings.handoff_report_weekday, hour=settings.handoff_report_hour
    )
    if week is None:
        return None
    async with sessions() as session:
        if await session.get(WeeklyReport, week) is not None:
            return None
        try:
            await make_and_post(session, settings, week)
        except IntegrityError:
            return None  # another replica made it first
    return week
