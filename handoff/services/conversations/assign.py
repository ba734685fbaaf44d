"""Assignment: waiting conversations to free agents, claims and transfers."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.errors import Conflict, NotFound
from handoff.models import Agent, Conversation, ConversationStatus, utcnow
from handoff.services import assignment
from handoff.services.conversations.rules import check_may_move, check_may_receive
from handoff.services.conversations.store import ACTIVE, ConversationStore


async def take(
    session: AsyncSession,
    cid: str,
    agent: Agent,
    expected: ConversationStatus | None = None,
) -> bool:
    """Opens the conversation for ``agent``; with ``expected``, only from that status.

    Returns:
        Whether the conversation was opened (``False`` when its status was not ``expected``).
    """
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
    episode = await ConversationStore.episode(session, cid)
    if episode is not None and episode.ended_at is None:
        episode.agent_id = agent.id
        if episode.assigned_at is None:
            episode.assigned_at = now
    return True


class AutoAssign:
    """Gives waiting conversations (urgent, then longest waiting) to free agents."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()

    async def perform(self) -> list[str]:
        """Assigns what it can; returns the ids of the conversations assigned."""
        assigned: list[str] = []
        async with self._lock:
            async with self._store.sessions.begin() as session:
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
                    if await take(session, conversation.id, agent, ConversationStatus.PENDING):
                        self._store.activity(
                            session, conversation, "auto_assigned", agent=agent.username
                        )
                        load[agent.id] = load.get(agent.id, 0) + 1
                        assigned.append(conversation.id)
        for cid in assigned:
            await self._store.emit(events.ASSIGNED, cid)
        return assigned


class Assign:
    """An agent claims a conversation, or transfers it to another agent or a team."""

    def __init__(self, store: ConversationStore, auto_assign: AutoAssign) -> None:
        self._store = store
        self._auto_assign = auto_assign

    async def perform(
        self, cid: str, *, actor: Agent, agent: str | None = None, team: str | None = None
    ) -> None:
        """Claims (no target), or transfers to another agent or to a team's queue.

        Raises:
            NotFound: no such conversation or agent.
            Conflict: the conversation is not with people, someone else holds it, or the
                target cannot reply (disabled, or a trainer).
            Forbidden: a transfer or team move by someone neither holding it nor admin.
        """
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not waiting for or with an agent")
                if team is not None:
                    check_may_move(conversation, actor, "move to a team")
                    self._to_team(session, conversation, team, actor)
                    kind = events.UPDATED
                else:
                    await self._to_agent(session, conversation, agent, actor)
                    kind = events.ASSIGNED
            await self._store.emit(kind, cid)
        if kind == events.UPDATED:
            await self._auto_assign.perform()

    def _to_team(
        self, session: AsyncSession, conversation: Conversation, team: str, actor: Agent
    ) -> None:
        if team not in assignment.TEAMS:
            raise Conflict(f"unknown team {team!r}; teams: " + ", ".join(assignment.TEAMS))
        conversation.team = team
        conversation.status = ConversationStatus.PENDING
        conversation.assignee_id = None
        conversation.waiting_since = utcnow()
        conversation.wait_alerted = False
        self._store.activity(
            session, conversation, "transferred_to_team", actor, team=team, by=actor.username
        )

    async def _to_agent(
        self, session: AsyncSession, conversation: Conversation, agent: str | None, actor: Agent
    ) -> None:
        cid = conversation.id
        target = actor
        if agent is not None and agent.lower() != actor.username.lower():
            check_may_move(conversation, actor, "transfer")
            found = await session.scalar(
                select(Agent).where(func.lower(Agent.username) == agent.lower())
            )
            if found is None:
                raise NotFound(f"no agent {agent!r}")
            check_may_receive(found)
            target = found
        elif conversation.assignee_id not in (None, actor.id) and actor.role.value != "admin":
            raise Conflict(f"{cid} is held by another agent; ask for a transfer")
        await take(session, cid, target)
        if target is actor:
            self._store.activity(session, conversation, "claimed", actor, agent=actor.username)
        else:
            self._store.activity(
                session,
                conversation,
                "transferred_to_agent",
                actor,
                agent=target.username,
                by=actor.username,
            )
