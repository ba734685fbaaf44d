"""Ending an episode in human hands: hand back to the bot, or resolve (then CSAT)."""

from __future__ import annotations

import logging

from handoff import events
from handoff.errors import Conflict, DeliveryError
from handoff.models import Agent, ConversationStatus, utcnow
from handoff.rasa_client import RasaClient
from handoff.services.conversations.assign import AutoAssign
from handoff.services.conversations.rules import check_may_move
from handoff.services.conversations.store import ACTIVE, ConversationStore, close_episode
from handoff.services.conversations.survey import CsatSurvey

logger = logging.getLogger(__name__)


class HandBack:
    """Gives the conversation back to the bot without CSAT (``resume`` first)."""

    def __init__(self, store: ConversationStore, rasa: RasaClient, auto_assign: AutoAssign) -> None:
        self._store = store
        self._rasa = rasa
        self._auto_assign = auto_assign

    async def perform(self, cid: str, *, agent: Agent) -> None:
        """Resumes the bot in Rasa, then shows the conversation as the bot's.

        Raises:
            NotFound: no such conversation.
            Conflict: the conversation is not with people.
            Forbidden: another agent holds it (admins may).
            DeliveryError: Rasa did not take the ``resume``; nothing changed.
        """
        async with self._store.locked(cid):
            async with self._store.sessions() as session:
                conversation = await self._store.get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not with an agent")
                check_may_move(conversation, agent, "hand back")
            await self._rasa.resume(cid)
            async with self._store.sessions.begin() as session:
                conversation = await self._store.get(session, cid)
                close_episode(conversation, await self._store.episode(session, cid), "handed_back")
                conversation.status = ConversationStatus.BOT
                conversation.assignee_id = None
                self._store.activity(
                    session, conversation, "handed_back", agent, agent=agent.username
                )
            await self._store.emit(events.HANDED_BACK, cid)
        await self._auto_assign.perform()


class Resolve:
    """Marks the conversation resolved and starts the CSAT survey (the bot stays paused)."""

    def __init__(
        self, store: ConversationStore, survey: CsatSurvey, auto_assign: AutoAssign
    ) -> None:
        self._store = store
        self._survey = survey
        self._auto_assign = auto_assign

    async def perform(self, cid: str, *, agent: Agent) -> None:
        """Resolves; when the rating question cannot be sent, the bot gets it back at once.

        Raises:
            NotFound: no such conversation.
            Conflict: the conversation is not with people.
            Forbidden: another agent holds it (admins may).
        """
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not with an agent")
                check_may_move(conversation, agent, "resolve")
                now = utcnow()
                close_episode(conversation, await self._store.episode(session, cid), "resolved")
                conversation.status = ConversationStatus.RESOLVED
                conversation.resolved_at = now
                conversation.csat_pending = True
                conversation.csat_awaiting_comment = False
                conversation.csat_requested_at = now
                self._store.activity(session, conversation, "resolved", agent, agent=agent.username)
            await self._store.emit(events.RESOLVED, cid)
            try:
                await self._survey.ask(conversation)
            except DeliveryError:
                logger.exception("could not ask %s for a rating; giving it back to the bot", cid)
                await self._survey.finish(cid, locked=True)
        await self._auto_assign.perform()
