"""The CSAT survey after resolve: ask for a rating, take it and a comment, give back."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handoff import events
from handoff.errors import DeliveryError
from handoff.models import Conversation, CsatRating, Message, MessageRole, utcnow
from handoff.rasa_client import RasaClient
from handoff.services import csat_wording
from handoff.services.annotations import collect as trainer_queue
from handoff.services.conversations.store import ConversationStore
from handoff.services.views import aware

logger = logging.getLogger(__name__)


class CsatSurvey:
    """Asks for a 1–5 rating, stores the answer, and hands the conversation back to the bot.

    Args:
        store: the conversation store.
        rasa: sends the survey's turns and resumes the bot.
        csat_window_s: how long after the question a rating is still taken.
    """

    def __init__(self, store: ConversationStore, rasa: RasaClient, *, csat_window_s: int) -> None:
        self._store = store
        self._rasa = rasa
        self._window = timedelta(seconds=csat_window_s)

    async def ask(self, conversation: Conversation) -> None:
        """Sends the rating question with its 1–5 buttons.

        Raises:
            DeliveryError: the connector refused.
        """
        await self._send(
            conversation,
            csat_wording.text("prompt", conversation.language),
            csat_wording.RATING_BUTTONS,
        )

    async def answer(self, cid: str, text: str) -> None:
        """The customer's message after resolve: a rating, a comment, or anything else."""
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.get(session, cid)
                if not conversation.csat_pending:
                    return
                requested = conversation.csat_requested_at
                expired = requested is not None and utcnow() - aware(requested) > self._window
                rating = None if expired else csat_wording.parse_rating(text)
                episode = await self._store.episode(session, cid)
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
                    await self._send(
                        conversation, csat_wording.text("comment", conversation.language)
                    )
                    return
                if step == "comment":
                    await self._send(
                        conversation, csat_wording.text("thanks", conversation.language)
                    )
            except DeliveryError:
                logger.exception("CSAT reply to %s failed", cid)
            await self.finish(cid, replay=text if step == "other" else None, locked=True)

    async def finish(self, cid: str, *, replay: str | None = None, locked: bool = False) -> None:
        """``resume`` (the bot answers again), then re-feeds a non-rating message.

        Args:
            cid: the conversation.
            replay: the customer's message to hand to the bot after ``resume``.
            locked: the caller already holds the conversation's lock.
        """
        if not locked:
            async with self._store.locked(cid):
                await self.finish(cid, replay=replay, locked=True)
            return
        await self._rasa.resume(cid)
        async with self._store.sessions.begin() as session:
            conversation = await self._store.get(session, cid)
            conversation.csat_pending = conversation.csat_awaiting_comment = False
            if replay:
                conversation.context = {**(conversation.context or {}), "replay_pending": replay}
            channel = conversation.channel
        await self._store.emit(events.UPDATED, cid)
        if replay:
            await self._rasa.replay(channel, cid, replay)

    async def _send(
        self, conversation: Conversation, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        """Sends a service-written bot turn, stores it and records it in the tracker."""
        await self._rasa.send(conversation.channel, conversation.id, text, buttons)
        async with self._store.sessions.begin() as session:
            session.add(
                Message(
                    conversation_id=conversation.id,
                    role=MessageRole.BOT,
                    text=text,
                    buttons=buttons,
                )
            )
        try:
            await self._rasa.record_system_turn(conversation.id, text, buttons)
        except DeliveryError:
            logger.exception("could not record a CSAT turn of %s in the tracker", conversation.id)
