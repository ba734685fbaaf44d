"""The facade the API layer and the Slack bridge call: one method per use case.

It builds the use cases of this package over one :class:`ConversationStore`
and only delegates; every state change is written in the use-case modules.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.events import EventBus
from handoff.models import Agent, Message
from handoff.rasa_client import RasaClient
from handoff.services.conversations.assign import Assign, AutoAssign
from handoff.services.conversations.close import HandBack, Resolve
from handoff.services.conversations.delivery import SendPolicy
from handoff.services.conversations.hand_off import HandOff, HandoffRequest
from handoff.services.conversations.ingest import Ingest
from handoff.services.conversations.post_message import PostMessage
from handoff.services.conversations.presence import MarkRead, SetPresence
from handoff.services.conversations.release import Release
from handoff.services.conversations.store import ConversationStore
from handoff.services.conversations.survey import CsatSurvey
from handoff.services.conversations.sweep import Sweep
from handoff.services.dead_letters import DeadLetters, Refusal
from handoff.services.wait_estimate import QueueInfo
from handoff.settings import Settings


class ConversationService:
    """Hand-off, ingest, assignment, agent messages, hand-back, resolve and CSAT.

    Args:
        sessions: the app's session factory.
        bus: where events go (live updates, Slack).
        rasa: Rasa's HTTP API and the connectors' outbound path.
        settings: the service's settings.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        rasa: RasaClient,
        settings: Settings,
    ) -> None:
        store = ConversationStore(
            sessions=sessions, bus=bus, wait_alert_s=settings.handoff_wait_alert_s
        )
        survey = CsatSurvey(store, rasa, csat_window_s=settings.handoff_csat_window_s)
        auto_assign = AutoAssign(store)
        hand_off = HandOff(store, auto_assign, settings)
        self._auto_assign = auto_assign
        self._hand_off = hand_off
        self._ingest = Ingest(store, hand_off, survey)
        self._assign = Assign(store, auto_assign)
        self._post_message = PostMessage(
            store,
            rasa,
            SendPolicy(
                attempts=settings.handoff_send_attempts, backoff_s=settings.handoff_send_backoff_s
            ),
        )
        self._hand_back = HandBack(store, rasa, auto_assign)
        self._resolve = Resolve(store, survey, auto_assign)
        self._release = Release(store, auto_assign)
        self._mark_read = MarkRead(store)
        self._set_presence = SetPresence(store, auto_assign)
        self._sweep = Sweep(store, survey, auto_assign, settings)
        self.dead_letters = DeadLetters(sessions)

    async def hand_off(self, request: HandoffRequest) -> QueueInfo:
        """See :meth:`HandOff.perform`."""
        return await self._hand_off.perform(request)

    async def ingest(self, batch: list[Any]) -> tuple[int, list[Refusal]]:
        """See :meth:`Ingest.perform`; refused events become dead letters."""
        used, refused = await self._ingest.perform(batch)
        await self.dead_letters.record(refused)
        return used, refused

    async def keep_event(self, event: object, reason: str) -> None:
        """Keeps an event the service cannot store (for a reason ingest did not foresee)."""
        sender = event.get("sender_id") if isinstance(event, dict) else None
        await self.dead_letters.record([Refusal("event", sender, reason, event)])

    async def refuse_handoff(self, body: object, reason: str) -> None:
        """Keeps a hand-off the service cannot store as a dead letter."""
        cid = body.get("conversation_id") if isinstance(body, dict) else None
        await self.dead_letters.record([Refusal("handoff", cid, reason, body)])

    async def auto_assign(self) -> list[str]:
        """See :meth:`AutoAssign.perform`."""
        return await self._auto_assign.perform()

    async def assign(
        self, cid: str, *, actor: Agent, agent: str | None = None, team: str | None = None
    ) -> None:
        """See :meth:`Assign.perform`."""
        await self._assign.perform(cid, actor=actor, agent=agent, team=team)

    async def post_message(
        self, cid: str, *, agent: Agent, text: str, private: bool = False
    ) -> Message:
        """See :meth:`PostMessage.perform`."""
        return await self._post_message.perform(cid, agent=agent, text=text, private=private)

    async def resend(self, cid: str, message_id: int, *, agent: Agent) -> Message:
        """See :meth:`PostMessage.resend`."""
        return await self._post_message.resend(cid, message_id, agent=agent)

    async def hand_back(self, cid: str, *, agent: Agent) -> None:
        """See :meth:`HandBack.perform`."""
        await self._hand_back.perform(cid, agent=agent)

    async def resolve(self, cid: str, *, agent: Agent) -> None:
        """See :meth:`Resolve.perform`."""
        await self._resolve.perform(cid, agent=agent)

    async def release(self, agent: Agent, *, by: Agent) -> list[str]:
        """See :meth:`Release.perform`."""
        return await self._release.perform(agent, by=by)

    async def mark_read(self, cid: str) -> None:
        """See :meth:`MarkRead.perform`."""
        await self._mark_read.perform(cid)

    async def set_presence(self, agent: Agent, *, online: bool) -> Agent:
        """See :meth:`SetPresence.perform`."""
        return await self._set_presence.perform(agent, online=online)

    async def sweep(self) -> None:
        """See :meth:`Sweep.perform`."""
        await self._sweep.perform()
