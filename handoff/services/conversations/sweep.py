"""The periodic sweep: long waits, alerts, CSAT windows that passed, assignment retries."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from handoff import events
from handoff.errors import DeliveryError
from handoff.models import Conversation, ConversationStatus, utcnow
from handoff.services import report_delivery
from handoff.services.conversations.assign import AutoAssign
from handoff.services.conversations.store import ConversationStore
from handoff.services.conversations.survey import CsatSurvey
from handoff.services.metrics import alerting, target_alerts
from handoff.settings import Settings

logger = logging.getLogger(__name__)


class Sweep:
    """What the app's sweeper runs every ``HANDOFF_SWEEP_INTERVAL_S``."""

    def __init__(
        self,
        store: ConversationStore,
        survey: CsatSurvey,
        auto_assign: AutoAssign,
        settings: Settings,
    ) -> None:
        self._store = store
        self._survey = survey
        self._auto_assign = auto_assign
        self._settings = settings

    async def perform(self) -> None:
        """Flags long waits, ends CSAT windows that passed, retries auto-assignment."""
        now = utcnow()
        alert_before = now - timedelta(seconds=self._settings.handoff_wait_alert_s)
        csat_before = now - timedelta(seconds=self._settings.handoff_csat_window_s)
        async with self._store.sessions.begin() as session:
            waiting = list(
                await session.scalars(
                    select(Conversation).where(
                        Conversation.status == ConversationStatus.PENDING,
                        Conversation.wait_alerted.is_(False),
                        Conversation.waiting_since < alert_before,
                    )
                )
            )
            for conversation in waiting:
                conversation.wait_alerted = True
            expired = list(
                await session.scalars(
                    select(Conversation.id).where(
                        Conversation.csat_pending.is_(True),
                        Conversation.csat_requested_at < csat_before,
                    )
                )
            )
        for conversation in waiting:
            await self._store.emit(events.UPDATED, conversation.id)
        await self._raise_alerts()
        await report_delivery.on_schedule(self._store.sessions, self._settings, utcnow())
        for cid in expired:
            try:
                await self._survey.finish(cid)
            except DeliveryError:
                logger.exception("could not resume %s after its CSAT window", cid)
        await self._auto_assign.perform()

    async def _raise_alerts(self) -> None:
        """Long waits and fallback-rate jumps not raised before: one event each."""
        async with self._store.sessions.begin() as session:
            fresh = await alerting.raise_new(
                session,
                wait_alert_s=self._settings.handoff_wait_alert_s,
                timezone=self._settings.handoff_timezone,
            )
            raised, cleared = await target_alerts.sweep(
                session,
                timezone=self._settings.handoff_timezone,
                hours=self._settings.handoff_target_alert_h,
            )
        for alert in [*fresh, *raised]:
            await self._store.emit_raw({"type": events.ALERT_RAISED, "alert": alert})
        for alert in cleared:
            await self._store.emit_raw({"type": events.ALERT_CLEARED, "alert": alert})
