"""An agent's reply to the customer, or a private note, in a conversation with people."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.errors import Conflict, DeliveryError, InvalidInput, NotFound
from handoff.models import Agent, Conversation, Message, MessageRole, utcnow
from handoff.rasa_client import RasaClient
from handoff.services.conversations.assign import take
from handoff.services.conversations.delivery import SendPolicy, send_reply
from handoff.services.conversations.store import ACTIVE, ConversationStore
from handoff.services.views import LastMessage, aware, last_messages

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096


def checked_text(text: str) -> str:
    """The message without surrounding blanks.

    Raises:
        Conflict: the text is empty or longer than ``MAX_TEXT_LENGTH``.
        InvalidInput: the text holds a NUL (no channel or database carries one).
    """
    if "\x00" in text:
        raise InvalidInput("the message contains a NUL character")
    text = text.strip()
    if not text:
        raise Conflict("the message is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise Conflict(f"the message is longer than {MAX_TEXT_LENGTH} characters")
    return text


class PostMessage:
    """Stores a note, or sends a reply and records it in the tracker.

    The steps: check the text; store the message (a first reply claims the
    conversation); a note is announced and done; a reply goes out through the
    connector and into the Rasa tracker; its outcome and the first-response time
    are stored; the reply is announced; a failed delivery is raised.
    The send is retried as :mod:`delivery` says; a reply that finally failed
    keeps the platform's reason and can be sent again (:meth:`resend`).
    """

    def __init__(
        self, store: ConversationStore, rasa: RasaClient, policy: SendPolicy | None = None
    ) -> None:
        self._store = store
        self._rasa = rasa
        self._policy = policy or SendPolicy()

    async def perform(self, cid: str, *, agent: Agent, text: str, private: bool = False) -> Message:
        """Posts ``text`` as ``agent``: a note when ``private``, else a reply.

        Raises:
            NotFound: no such conversation.
            Conflict: the conversation is not with people, another agent holds it (replies
                only; notes are always allowed), or the text is empty or too long.
            DeliveryError: the connector refused; the message is kept, marked failed.
        """
        text = checked_text(text)
        async with self._store.locked(cid):
            message, conversation, last = await self._store_message(cid, agent, text, private)
            if private:
                await self._store.publish(events.MESSAGE_CREATED, conversation, last, message)
                return message
            channel = conversation.channel
            error, recorded = await self._deliver(channel, cid, agent, text, message.id)
            message, conversation = await self._store_outcome(cid, message.id, error, recorded)
            # From the rows of this session: the reply is the newest public message.
            await self._store.publish(events.MESSAGE_CREATED, conversation, message, message)
        if error is not None:
            error.message_id = message.id
            raise error
        return message

    async def resend(self, cid: str, message_id: int, *, agent: Agent) -> Message:
        """Sends a reply that finally failed once more (the agent's "send again").

        Raises:
            NotFound: no such message in this conversation.
            Conflict: it is not a failed reply, the conversation is not with people,
                or another agent holds it.
            DeliveryError: the connector refused again; the message stays failed.
        """
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.get(session, cid)
                message = await session.get(Message, message_id)
                if message is None or message.conversation_id != cid:
                    raise NotFound(f"no message {message_id} in {cid}")
                if message.role != MessageRole.AGENT or message.private:
                    raise Conflict("only an agent's reply can be sent again")
                if message.delivery != "failed":
                    raise Conflict(f"message {message_id} is {message.delivery}, not failed")
                await self._check_holder(session, conversation, agent, False)
                message.delivery, message.error = "sending", None
                text = message.text or ""
                channel = conversation.channel
            error, recorded = await self._deliver(channel, cid, agent, text, message_id)
            message, conversation = await self._store_outcome(cid, message_id, error, recorded)
            last = await self._last(cid)
            await self._store.publish(events.MESSAGE_UPDATED, conversation, last, message)
        if error is not None:
            error.message_id = message_id
            raise error
        return message

    async def _last(self, cid: str) -> LastMessage | None:
        async with self._store.sessions() as session:
            return (await last_messages(session, [cid])).get(cid)

    async def _store_message(
        self, cid: str, agent: Agent, text: str, private: bool
    ) -> tuple[Message, Conversation, LastMessage | None]:
        """Stores the note, or the reply as ``sending``; a note also gets the newest public one."""
        async with self._store.sessions.begin() as session:
            conversation = await self._store.get(session, cid)
            await self._check_holder(session, conversation, agent, private)
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
            last = None
            if private:  # a note is not the newest public message
                last = (await last_messages(session, [cid])).get(cid)
        return message, conversation, last

    async def _check_holder(
        self, session: AsyncSession, conversation: Conversation, agent: Agent, private: bool
    ) -> None:
        """Notes need people on the conversation; a reply needs it free or held by ``agent``."""
        cid = conversation.id
        if conversation.status not in ACTIVE:
            raise Conflict(f"{cid} is not with an agent; it must be handed off first")
        if private:
            return
        if conversation.assignee_id not in (None, agent.id):
            raise Conflict(f"{cid} is held by another agent; only notes are allowed")
        if conversation.assignee_id is None:
            await take(session, cid, agent)
            self._store.activity(session, conversation, "claimed", agent, agent=agent.username)

    async def _deliver(
        self, channel: str, cid: str, agent: Agent, text: str, message_id: int
    ) -> tuple[DeliveryError | None, str | None]:
        """Sends the reply (retried, one idempotency key), then records it in the tracker.

        Returns:
            The delivery error (nothing was sent), and a note for the message's error
            field when the reply went out but the tracker did not take it.
        """
        try:
            await send_reply(
                self._rasa, channel, cid, text, message_id=message_id, policy=self._policy
            )
        except DeliveryError as failure:
            return failure, None
        try:
            await self._rasa.record_agent_turn(cid, text, agent.username)
        except DeliveryError as failure:
            logger.exception("reply sent but not recorded in the tracker of %s", cid)
            return None, f"sent, but not recorded in the Rasa tracker: {failure}"
        return None, None

    async def _store_outcome(
        self, cid: str, message_id: int, error: DeliveryError | None, recorded: str | None
    ) -> tuple[Message, Conversation]:
        """Marks the reply sent or failed; a sent reply may be the first response."""
        async with self._store.sessions.begin() as session:
            stored = await session.get(Message, message_id)
            conversation = await self._store.get(session, cid)
            assert stored is not None
            if error is not None:
                stored.delivery, stored.error = "failed", str(error)
            else:
                stored.delivery, stored.error = "sent", recorded
                await self._first_response(session, conversation)
        return stored, conversation

    async def _first_response(self, session: AsyncSession, conversation: Conversation) -> None:
        """The customer has an answer: nothing unread; first-response times if first."""
        now = utcnow()
        conversation.unread = 0
        if conversation.first_response_at is None:
            conversation.first_response_at = now
            if conversation.waiting_since is not None:
                conversation.first_response_s = (
                    now - aware(conversation.waiting_since)
                ).total_seconds()
        episode = await self._store.episode(session, conversation.id)
        if episode is not None and episode.first_response_at is None:
            episode.first_response_at = now
