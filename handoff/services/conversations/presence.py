"""What an agent's attention changes: being on- or offline, having read a conversation."""

from __future__ import annotations

from sqlalchemy import update

from handoff.errors import NotFound
from handoff.models import Agent, Conversation, utcnow
from handoff.services.conversations.assign import AutoAssign
from handoff.services.conversations.store import ConversationStore


class SetPresence:
    """Marks an agent on- or offline; an agent coming online may get waiting work."""

    def __init__(self, store: ConversationStore, auto_assign: AutoAssign) -> None:
        self._store = store
        self._auto_assign = auto_assign

    async def perform(self, agent: Agent, *, online: bool) -> Agent:
        """Stores the presence and returns the updated account.

        Raises:
            NotFound: the account no longer exists.
        """
        async with self._store.sessions.begin() as session:
            stored = await session.get(Agent, agent.id)
            if stored is None:
                raise NotFound(f"no agent {agent.username!r}")
            stored.online = online
            stored.last_seen = utcnow()
        if online:
            await self._auto_assign.perform()
        return stored


class MarkRead:
    """The assignee has seen the customer's latest messages."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    async def perform(self, cid: str) -> None:
        """Sets the conversation's unread count to zero."""
        async with self._store.sessions.begin() as session:
            await session.execute(
                update(Conversation).where(Conversation.id == cid).values(unread=0)
            )
