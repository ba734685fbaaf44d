"""Conversations of an account that can no longer reply go back to their queue."""

from __future__ import annotations

from sqlalchemy import select

from handoff import events
from handoff.models import Agent, Conversation, ConversationStatus, utcnow
from handoff.services.conversations.assign import AutoAssign
from handoff.services.conversations.store import ACTIVE, ConversationStore


class Release:
    """Requeues what a disabled account, or one made a trainer, was holding.

    Without this the customer would wait on someone who cannot answer, and no
    other agent may take a conversation somebody holds.
    """

    def __init__(self, store: ConversationStore, auto_assign: AutoAssign) -> None:
        self._store = store
        self._auto_assign = auto_assign

    async def perform(self, agent: Agent, *, by: Agent) -> list[str]:
        """Puts ``agent``'s active conversations back in their team's queue; returns their ids."""
        async with self._store.sessions() as session:
            held = list(
                await session.scalars(
                    select(Conversation.id).where(
                        Conversation.assignee_id == agent.id, Conversation.status.in_(ACTIVE)
                    )
                )
            )
        released: list[str] = []
        for cid in held:
            async with self._store.locked(cid):
                async with self._store.sessions.begin() as session:
                    conversation = await self._store.get(session, cid)
                    if conversation.assignee_id != agent.id or conversation.status not in ACTIVE:
                        continue  # moved meanwhile
                    conversation.status = ConversationStatus.PENDING
                    conversation.assignee_id = None
                    conversation.waiting_since = utcnow()
                    conversation.wait_alerted = False
                    self._store.activity(
                        session, conversation, "released", by, agent=agent.username, by=by.username
                    )
                await self._store.emit(events.UPDATED, cid)
            released.append(cid)
        if released:
            await self._auto_assign.perform()
        return released
