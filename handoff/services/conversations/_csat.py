"""The rating after resolve, and the periodic sweep."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from handoff import events
from handoff.errors import DeliveryError
from handoff.models import (
    Conversation,
    ConversationStatus,
    CsatRating,
    utcnow,
)
from handoff.services import csat
from handoff.services.annotations import collect as trainer_queue
from handoff.services.conversations._base import (
    ServiceBase,
)
from handoff.services.metrics import alerting
from handoff.services.views import aware

logger = logging.getLogger(__name__)


class CsatPart(ServiceBase):
    """The rating after resolve, and the periodic sweep."""

    # -- CSAT ----------------------------------------------------------------------------

    async def _answer_csat(self, cid: str, text: str) -> None:
        """The customer's message after resolve: a rating, a comment, or anything else."""
        async with self._locked(cid):
            async with self._sessions.begin() as session:
                conversation = await self._get(session, cid)
                if not conversation.csat_pending:
                    return
                requested = conversation.csat_requested_at
                expired = requested is not None and utcnow() - aware(requested) > timedelta(
                    seconds=self._settings.handoff_csat_window_s
                )
                rating = None if expired else csat.parse_rating(text)
                episode = await self._episode(session, cid)
                if conversation.csat_awaiting_comment and not expired:
                    last = await session.scalar(
                        select(CsatRating)
                        .where(CsatRating.conversation_id == cid)
                        .order_by(CsatRating.id.desc())
                        .limit(1)
                    )
                    if last is not None:
                        last.comment = text
                    step = "comment"
                elif rating is not None:
                    session.add(
                        CsatRating(
                            conversation_id=cid,
                            rating=rating,
                            handoff_id=episode.id if episode else None,
                            agent_id=episode.agent_id if episode else None,
                        )
                    )
                    await trainer_queue.on_rating(session, cid, rating, episode)
                    conversation.csat_awaiting_comment = True
                    conversation.csat_requested_at = utcnow()
                    step = "rating"
                else:
                    step = "other"
            try:
                if step == "rating":
                    await self._send_system(
                        conversation, csat.text("comment", conversation.language)
                    )
                    return
                if step == "comment":
                    await self._send_system(
                        conversation, csat.text("thanks", conversation.language)
                    )
            except DeliveryError:
                logger.exception("CSAT reply to %s failed", cid)
            await self._finish_csat(cid, replay=text if step == "other" else None, locked=True)

    async def _finish_csat(
        self, cid: str, *, replay: str | None = None, locked: bool = False
    ) -> None:
        """``resume`` (the bot answers again), then re-feeds a non-rating message."""
        if not locked:
            async with self._locked(cid):
                await self._finish_csat(cid, replay=replay, locked=True)
            return
        await self._rasa.resume(cid)
        async with self._sessions.begin() as session:
            conversation = await self._get(session, cid)
            conversation.csat_pending = conversation.csat_awaiting_comment = False
            if replay:
                conversation.context = {**(conversation.context or {}), "replay_pending": replay}
            channel = conversation.channel
        await self._emit(events.UPDATED, cid)
        if replay:
            await self._rasa.replay(channel, cid, replay)

    # -- periodic work -------------------------------------------------------------------

    async def _raise_alerts(self) -> None:
        """Long waits and fallback-rate jumps not raised before: one event each."""
        async with self._sessions.begin() as session:
            fresh = await alerting.raise_new(
                session,
                wait_alert_s=self._settings.handoff_wait_alert_s,
                timezone=self._settings.handoff_timezone,
            )
        for alert in fresh:
            await self._bus.emit({"type": events.ALERT_RAISED, "alert": alert})

    async def sweep(self) -> None:
        """Flags long waits, ends CSAT windows that passed, retries auto-assignment."""
        now = utcnow()
        alert_before = now - timedelta(seconds=self._settings.handoff_wait_alert_s)
        csat_before = now - timedelta(seconds=self._settings.handoff_csat_window_s)
        async with self._sessions.begin() as session:
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
            await self._emit(events.UPDATED, conversation.id)
        await self._raise_alerts()
        for cid in expired:
            try:
                await self._finish_csat(cid)
            except DeliveryError:
                logger.exception("could not resume %s after its CSAT window", cid)
        await self.auto_assign()
