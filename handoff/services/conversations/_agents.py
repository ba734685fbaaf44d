"""What agents do: replies and notes, hand-back, resolve, presence."""

from __future__ import annotations

import logging

from sqlalchemy import update

from handoff import events
from handoff.errors import Conflict, DeliveryError, NotFound
from handoff.models import (
    Agent,
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services import csat
from handoff.services.conversations._base import (
    ACTIVE,
    MAX_TEXT_LENGTH,
    ServiceBase,
)
from handoff.services.views import aware, last_messages

logger = logging.getLogger(__name__)


class AgentPart(ServiceBase):
    """What agents do: replies and notes, hand-back, resolve, presence."""

    # -- agent messages ------------------------------------------------------------------

    async def post_message(
        self, cid: str, *, agent: Agent, text: str, private: bool = False
    ) -> Message:
        """Stores a note, or sends a reply to the customer and records it in the tracker.

        Raises:
            NotFound: no such conversation.
            Conflict: the conversation is not with people, another agent holds it (replies
                only; notes are always allowed), or the text is empty or too long.
            DeliveryError: the connector refused; the message is kept, marked failed.
        """
        text = text.strip()
        if not text:
            raise Conflict("the message is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise Conflict(f"the message is longer than {MAX_TEXT_LENGTH} characters")
        async with self._locked(cid):
            async with self._sessions.begin() as session:
                conversation = await self._get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not with an agent; it must be handed off first")
                if not private and conversation.assignee_id not in (None, agent.id):
                    raise Conflict(f"{cid} is held by another agent; only notes are allowed")
                if not private and conversation.assignee_id is None:
                    await self._take(session, cid, agent)
                    self._activity(session, conversation, "claimed", agent, agent=agent.username)
                message = Message(
                    conversation_id=cid,
                    role=MessageRole.AGENT,
                    text=text,
                    # Usually the assignee, already in this session's identity map.
                    agent=await session.get(Agent, agent.id),
                    private=private,
                    delivery=None if private else "sending",
                )
                session.add(message)
                conversation.last_activity_at = utcnow()
                channel = conversation.channel
                if private:  # a note is not the newest public message
                    last = (await last_messages(session, [cid])).get(cid)
            if private:
                await self._bus.emit(
                    self._event(events.MESSAGE_CREATED, conversation, last, message)
                )
                return message
            error: DeliveryError | None = None
            try:
                await self._rasa.send(channel, cid, text)
            except DeliveryError as failure:
                error = failure
            recorded: str | None = None
            if error is None:
                try:
                    await self._rasa.record_agent_turn(cid, text, agent.username)
                except DeliveryError as failure:
                    logger.exception("reply sent but not recorded in the tracker of %s", cid)
                    recorded = f"sent, but not recorded in the Rasa tracker: {failure}"
            async with self._sessions.begin() as session:
                stored = await session.get(Message, message.id)
                conversation = await self._get(session, cid)
                assert stored is not None
                if error is not None:
                    stored.delivery, stored.error = "failed", str(error)
                else:
                    stored.delivery, stored.error = "sent", recorded
                    now = utcnow()
                    conversation.unread = 0
                    if conversation.first_response_at is None:
                        conversation.first_response_at = now
                        if conversation.waiting_since is not None:
                            conversation.first_response_s = (
                                now - aware(conversation.waiting_since)
                            ).total_seconds()
                    episode = await self._episode(session, cid)
                    if episode is not None and episode.first_response_at is None:
                        episode.first_response_at = now
                message = stored
            # From the rows of this session: the reply is the newest public message.
            await self._bus.emit(
                self._event(events.MESSAGE_CREATED, conversation, message, message)
            )
        if error is not None:
            error.message_id = message.id
            raise error
        return message

    # -- hand back and resolve -----------------------------------------------------------

    async def hand_back(self, cid: str, *, agent: Agent) -> None:
        """Gives the conversation back to the bot without CSAT (``resume`` first)."""
        async with self._locked(cid):
            async with self._sessions() as session:
                conversation = await self._get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not with an agent")
            await self._rasa.resume(cid)
            async with self._sessions.begin() as session:
                conversation = await self._get(session, cid)
                self._close(conversation, await self._episode(session, cid), "handed_back")
                conversation.status = ConversationStatus.BOT
                conversation.assignee_id = None
                self._activity(session, conversation, "handed_back", agent, agent=agent.username)
            await self._emit(events.HANDED_BACK, cid)
        await self.auto_assign()

    async def resolve(self, cid: str, *, agent: Agent) -> None:
        """Marks it resolved and asks the customer for a 1–5 rating (the bot stays paused)."""
        async with self._locked(cid):
            async with self._sessions.begin() as session:
                conversation = await self._get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not with an agent")
                now = utcnow()
                self._close(conversation, await self._episode(session, cid), "resolved")
                conversation.status = ConversationStatus.RESOLVED
                conversation.resolved_at = now
                conversation.csat_pending = True
                conversation.csat_awaiting_comment = False
                conversation.csat_requested_at = now
                self._activity(session, conversation, "resolved", agent, agent=agent.username)
            await self._emit(events.RESOLVED, cid)
            try:
                await self._send_system(
                    conversation, csat.text("prompt", conversation.language), csat.RATING_BUTTONS
                )
            except DeliveryError:
                logger.exception("could not ask %s for a rating; giving it back to the bot", cid)
                await self._finish_csat(cid, locked=True)
        await self.auto_assign()

    async def mark_read(self, cid: str) -> None:
        """The assignee has seen the customer's latest messages."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Conversation).where(Conversation.id == cid).values(unread=0)
            )

    async def set_presence(self, agent: Agent, *, online: bool) -> Agent:
        """Marks the agent on- or offline; an agent coming online may get waiting work."""
        async with self._sessions.begin() as session:
            stored = await session.get(Agent, agent.id)
            if stored is None:
                raise NotFound(f"no agent {agent.username!r}")
            stored.online = online
            stored.last_seen = utcnow()
        if online:
            await self.auto_assign()
        return stored
