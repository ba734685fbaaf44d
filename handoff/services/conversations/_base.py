"""The only place that changes a conversation's state; emits dotted events to listeners.

Who talks to the customer is Rasa's tracker (pause/resume events). The status
kept here (pending, open, resolved) is a view for people: handing back or
finishing the CSAT appends ``resume`` to the tracker first and changes the
status only when Rasa accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import events
from handoff.errors import DeliveryError, NotFound
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
from handoff.rasa_client import RasaClient
from handoff.services import assignment
from handoff.services.queue import QueueInfo
from handoff.services.views import (
    LastMessage,
    conversation_json,
    last_messages,
    message_json,
)
from handoff.settings import Settings

logger = logging.getLogger(__name__)

ACTIVE = (ConversationStatus.PENDING, ConversationStatus.OPEN)
MAX_TEXT_LENGTH = 4096
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
}


def channel_of(conversation_id: str) -> str:
    """``telegram:42`` → ``telegram``; plain REST ids → ``rest``."""
    prefix, sep, _ = conversation_id.partition(":")
    return prefix if sep and prefix in KNOWN_CHANNELS else "rest"


def _from_ts(timestamp: object) -> datetime:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(float(timestamp), UTC)
    return utcnow()


@dataclass
class HandoffRequest:
    """What ``action_handoff`` sends (``POST /api/internal/handoffs``)."""

    conversation_id: str
    channel: str | None = None
    reason: str | None = None
    intent: str | None = None
    language: str | None = None
    summary: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    intents: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    after_sales_cases: list[dict[str, Any]] = field(default_factory=list)


class ServiceBase:
    """Shared state and helpers of the conversation service's parts."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        rasa: RasaClient,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._rasa = rasa
        self._settings = settings
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._assign_lock = asyncio.Lock()

    # -- helpers -----------------------------------------------------------------------

    @asynccontextmanager
    async def _locked(self, conversation_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            yield

    @staticmethod
    async def _load(session: AsyncSession, conversation_id: str) -> Conversation | None:
        # FOR UPDATE (PostgreSQL) keeps replicas from changing one conversation at once.
        return await session.scalar(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update(of=Conversation)
        )

    async def _get(self, session: AsyncSession, conversation_id: str) -> Conversation:
        conversation = await self._load(session, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return conversation

    @staticmethod
    async def _episode(session: AsyncSession, conversation_id: str) -> HandoffRecord | None:
        return await session.scalar(
            select(HandoffRecord)
            .where(HandoffRecord.conversation_id == conversation_id)
            .order_by(HandoffRecord.id.desc())
            .limit(1)
        )

    @staticmethod
    def _activity(
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

    def _event(
        self,
        kind: str,
        conversation: Conversation,
        last: Message | LastMessage | None,
        message: Message | None = None,
    ) -> dict[str, Any]:
        """An event built from rows already loaded (and committed) by the caller.

        ``last`` is the newest public message; for ``message.created`` of a public
        message that is the message itself, so nothing has to be read again.
        """
        event: dict[str, Any] = {
            "type": kind,
            "conversation": conversation_json(
                conversation, last, wait_alert_s=self._settings.handoff_wait_alert_s
            ),
        }
        if message is not None:
            event["message"] = message_json(message)
        return event

    async def _emit(self, kind: str, conversation_id: str, message: Message | None = None) -> None:
        async with self._sessions() as session:
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            if conversation is None:
                return
            last = (await last_messages(session, [conversation_id])).get(conversation_id)
            event: dict[str, Any] = {
                "type": kind,
                "conversation": conversation_json(
                    conversation, last, wait_alert_s=self._settings.handoff_wait_alert_s
                ),
            }
            if message is not None:
                fresh = await session.get(Message, message.id, populate_existing=True)
                event["message"] = message_json(fresh or message)
        await self._bus.emit(event)

    async def _send_system(
        self, conversation: Conversation, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        """Sends a service-written bot turn, stores it and records it in the tracker."""
        await self._rasa.send(conversation.channel, conversation.id, text, buttons)
        async with self._sessions.begin() as session:
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

    @staticmethod
    def _close(conversation: Conversation, episode: HandoffRecord | None, outcome: str) -> None:
        now = utcnow()
        conversation.last_activity_at = now
        conversation.unread = 0
        if episode is not None and episode.ended_at is None:
            episode.ended_at, episode.outcome = now, outcome

    # -- assignment (used by every part) ------------------------------------------------

    async def auto_assign(self) -> list[str]:
        """Gives waiting conversations (urgent, then longest waiting) to free agents."""
        assigned: list[str] = []
        async with self._assign_lock:
            async with self._sessions.begin() as session:
                waiting = list(
                    await session.scalars(
                        select(Conversation)
                        .where(
                            Conversation.status == ConversationStatus.PENDING,
                            Conversation.assignee_id.is_(None),
                        )
                        .order_by(Conversation.urgent.desc(), Conversation.waiting_since)
                    )
                )
                agents = await assignment.available_agents(session)
                if not waiting or not agents:
                    return []
                load = await assignment.open_load(session)
                for conversation in waiting:
                    agent = assignment.pick_agent(conversation.team, agents, load)
                    if agent is None:
                        continue
                    if await self._take(
                        session, conversation.id, agent, ConversationStatus.PENDING
                    ):
                        self._activity(session, conversation, "auto_assigned", agent=agent.username)
                        load[agent.id] = load.get(agent.id, 0) + 1
                        assigned.append(conversation.id)
        for cid in assigned:
            await self._emit(events.ASSIGNED, cid)
        return assigned

    async def _take(
        self,
        session: AsyncSession,
        cid: str,
        agent: Agent,
        expected: ConversationStatus | None = None,
    ) -> bool:
        """Opens the conversation for ``agent``; with ``expected``, only from that status."""
        now = utcnow()
        statement = update(Conversation).where(Conversation.id == cid)
        if expected is not None:
            statement = statement.where(Conversation.status == expected)
        result = await session.execute(
            statement.values(
                status=ConversationStatus.OPEN,
                assignee_id=agent.id,
                assigned_at=now,
                last_activity_at=now,
            ).execution_options(synchronize_session="fetch")
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        episode = await self._episode(session, cid)
        if episode is not None and episode.ended_at is None:
            episode.agent_id = agent.id
            if episode.assigned_at is None:
                episode.assigned_at = now
        return True

    # -- implemented by the other parts -------------------------------------------------

    async def hand_off(self, request: HandoffRequest) -> QueueInfo:
        """See :class:`~handoff.services.conversations._handoff.HandoffPart`."""
        raise NotImplementedError

    async def _answer_csat(self, cid: str, text: str) -> None:
        raise NotImplementedError

    async def _finish_csat(
        self, cid: str, *, replay: str | None = None, locked: bool = False
    ) -> None:
        raise NotImplementedError
