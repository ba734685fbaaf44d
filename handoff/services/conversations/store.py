"""The conversation store: loading, locking, activity lines and events, for every use case.

Each use case in this package gets the one store of the running app and
changes conversations only through the sessions, locks and helpers below, so
the way a conversation is loaded, locked, audited and announced is written once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import NotFound
from handoff.events import EventBus
from handoff.models import (
    Agent,
    Conversation,
    ConversationStatus,
    HandoffRecord,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services.views import LastMessage, conversation_json, last_messages, message_json

ACTIVE = (ConversationStatus.PENDING, ConversationStatus.OPEN)
KNOWN_CHANNELS = frozenset({"telegram", "wechat", "webchat"})
# Activity lines are stored with a kind and parameters (the inbox translates them) and
# with this English text (Slack, exports, clients that do not know the kind).
ACTIVITY_TEXT = {
    "handed_off": "Handed off by the bot: {reason}",
    "claimed": "Claimed by {agent}",
    "auto_assigned": "Assigned to {agent} automatically",
    "transferred_to_agent": "Transferred to {agent} by {by}",
    "transferred_to_team": "Transferred to the {team} team by {by}",
    "handed_back": "Handed back to the bot by {agent}",
    "resolved": "Resolved by {agent}",
    "resumed_outside": "Resumed in Rasa outside the inbox",
    "released": "Back in the queue: {agent} can no longer reply (changed by {by})",
}


def channel_of(conversation_id: str) -> str:
    """``telegram:42`` → ``telegram``; plain REST ids → ``rest``."""
    prefix, sep, _ = conversation_id.partition(":")
    return prefix if sep and prefix in KNOWN_CHANNELS else "rest"


def from_ts(timestamp: object) -> datetime:
    """A Rasa event timestamp (seconds) as an aware datetime; now when it is missing."""
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(float(timestamp), UTC)
    return utcnow()


def close_episode(conversation: Conversation, episode: HandoffRecord | None, outcome: str) -> None:
    """Ends the episode in human hands (``resolved`` or ``handed_back``), if still open."""
    now = utcnow()
    conversation.last_activity_at = now
    conversation.unread = 0
    if episode is not None and episode.ended_at is None:
        episode.ended_at, episode.outcome = now, outcome


class ConversationStore:
    """Sessions, per-conversation locks, audit lines and live events of conversations.

    Args:
        sessions: the app's session factory.
        bus: where events go (live updates, Slack).
        wait_alert_s: the long-wait threshold shown with each conversation.
    """

    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], bus: EventBus, wait_alert_s: int
    ) -> None:
        self.sessions = sessions
        self._bus = bus
        self._wait_alert_s = wait_alert_s
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def locked(self, conversation_id: str) -> AsyncIterator[None]:
        """Serialises changes to one conversation within this process."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            yield

    @staticmethod
    async def load(session: AsyncSession, conversation_id: str) -> Conversation | None:
        """The conversation, locked for update, or ``None``."""
        # FOR UPDATE (PostgreSQL) keeps replicas from changing one conversation at once.
        return await session.scalar(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update(of=Conversation)
        )

    async def get(self, session: AsyncSession, conversation_id: str) -> Conversation:
        """The conversation, locked for update.

        Raises:
            NotFound: there is no such conversation.
        """
        conversation = await self.load(session, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return conversation

    @staticmethod
    async def episode(session: AsyncSession, conversation_id: str) -> HandoffRecord | None:
        """The conversation's latest hand-off episode."""
        return await session.scalar(
            select(HandoffRecord)
            .where(HandoffRecord.conversation_id == conversation_id)
            .order_by(HandoffRecord.id.desc())
            .limit(1)
        )

    @staticmethod
    def activity(
        session: AsyncSession,
        conversation: Conversation,
        kind: str,
        actor: Agent | None = None,
        /,
        **params: str,
    ) -> None:
        """Adds an audit-trail line: ``kind`` (a key of ``ACTIVITY_TEXT``) and its params."""
        session.add(
            Message(
                conversation_id=conversation.id,
                role=MessageRole.ACTIVITY,
                text=ACTIVITY_TEXT[kind].format(**params),
                agent_id=actor.id if actor else None,
                activity={"kind": kind, **params},
            )
        )

    async def publish(
        self,
        kind: str,
        conversation: Conversation,
        last: Message | LastMessage | None,
        message: Message | None = None,
    ) -> None:
        """Emits an event built from rows already loaded (and committed) by the caller.

        ``last`` is the newest public message; for ``message.created`` of a public
        message that is the message itself, so nothing has to be read again.
        """
        event: dict[str, Any] = {
            "type": kind,
            "conversation": conversation_json(conversation, last, wait_alert_s=self._wait_alert_s),
        }
        if message is not None:
            event["message"] = message_json(message)
        await self._bus.emit(event)

    async def emit(self, kind: str, conversation_id: str, message: Message | None = None) -> None:
        """Emits an event with the conversation (and message) as stored now."""
        async with self.sessions() as session:
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            if conversation is None:
                return
            last = (await last_messages(session, [conversation_id])).get(conversation_id)
            event: dict[str, Any] = {
                "type": kind,
                "conversation": conversation_json(
                    conversation, last, wait_alert_s=self._wait_alert_s
                ),
            }
            if message is not None:
                fresh = await session.get(Message, message.id, populate_existing=True)
                event["message"] = message_json(fresh or message)
        await self._bus.emit(event)

    async def emit_raw(self, event: dict[str, Any]) -> None:
        """Emits an event that is not about one conversation (alerts)."""
        await self._bus.emit(event)
